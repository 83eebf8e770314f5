#include "core/cidr.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/assert_ok.h"

namespace shoal::core {
namespace {

SocketAddress Peer(const std::string& text) {
  auto address = SocketAddress::Parse(text);
  EXPECT_TRUE(address.ok()) << text;
  return address.ok() ? *address : SocketAddress();
}

bool Contains(const std::string& range, const std::string& peer) {
  auto cidr = Cidr::Parse(range);
  EXPECT_TRUE(cidr.ok()) << range << ": " << cidr.status();
  return cidr.ok() && cidr->Contains(Peer(peer));
}

struct MatchCase {
  const char* range;
  const char* peer;
  bool contains;
};

TEST(Cidr, MatchesExactlyThePrefix) {
  const MatchCase cases[] = {
      // IPv4 ranges.
      {"10.0.0.0/8", "10.255.1.2:80", true},
      {"10.0.0.0/8", "11.0.0.1:80", false},
      {"192.168.1.128/25", "192.168.1.200:1", true},
      {"192.168.1.128/25", "192.168.1.127:1", false},
      {"0.0.0.0/0", "8.8.8.8:53", true},
      // A bare address is a full-length prefix.
      {"127.0.0.1", "127.0.0.1:5", true},
      {"127.0.0.1", "127.0.0.2:5", false},
      {"::1", "[::1]:5", true},
      {"::1", "[::2]:5", false},
      // IPv6 ranges.
      {"2001:db8::/32", "[2001:db8:1::5]:443", true},
      {"2001:db8::/32", "[2001:db9::5]:443", false},
      {"fe80::/10", "[febf::1]:1", true},
      {"fe80::/10", "[fec0::1]:1", false},
      // IPv4-mapped peers match IPv4 ranges, and only those.
      {"10.0.0.0/8", "[::ffff:10.1.2.3]:80", true},
      {"10.0.0.0/8", "[::ffff:11.1.2.3]:80", false},
      {"::ffff:0:0/96", "1.2.3.4:80", true},
      {"::/96", "1.2.3.4:80", false},
      {"10.0.0.0/8", "[::a00:1]:80", false},
  };
  for (const MatchCase& c : cases) {
    EXPECT_EQ(Contains(c.range, c.peer), c.contains) << c.range << " " << c.peer;
  }
}

TEST(Cidr, CanonicalText) {
  for (auto [text, canonical] : {std::pair{"127.0.0.1", "127.0.0.1/32"},
                                 std::pair{"2001:0db8::/32", "2001:db8::/32"},
                                 std::pair{"::1", "::1/128"}}) {
    ASSERT_OK_AND_ASSIGN(Cidr range, Cidr::Parse(text));
    EXPECT_EQ(range.ToString(), canonical);
  }
}

TEST(Cidr, RefusesWhatIsNotARange) {
  for (const char* text : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1",
                           "10.0.0.0/08", "10.0.0.0/8x", "10.0.0", "example.com", "10.0.0.1/8",
                           "2001:db8::1/32", "1.2.3.4/ 8", "[::1]/128", "10.0.0.0/8/8"}) {
    EXPECT_FALSE(Cidr::Parse(text).ok()) << text;
  }
}

TEST(Cidr, AnyContainsChecksEachRange) {
  std::vector<Cidr> ranges;
  for (const char* text : {"10.0.0.0/8", "::1"}) {
    ASSERT_OK_AND_ASSIGN(Cidr range, Cidr::Parse(text));
    ranges.push_back(range);
  }
  EXPECT_TRUE(AnyContains(ranges, Peer("10.1.1.1:1")));
  EXPECT_TRUE(AnyContains(ranges, Peer("[::1]:1")));
  EXPECT_FALSE(AnyContains(ranges, Peer("127.0.0.1:1")));
  EXPECT_FALSE(AnyContains({}, Peer("127.0.0.1:1")));
}

}  // namespace
}  // namespace shoal::core
