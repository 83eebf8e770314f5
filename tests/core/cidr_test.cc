#include "core/cidr.h"

#include <string>
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

TEST(Cidr, Ipv4RangeMatchesItsAddressesOnly) {
  EXPECT_TRUE(Contains("10.0.0.0/8", "10.255.1.2:80"));
  EXPECT_FALSE(Contains("10.0.0.0/8", "11.0.0.1:80"));
  EXPECT_TRUE(Contains("192.168.1.128/25", "192.168.1.200:1"));
  EXPECT_FALSE(Contains("192.168.1.128/25", "192.168.1.127:1"));
  EXPECT_TRUE(Contains("0.0.0.0/0", "8.8.8.8:53"));
}

TEST(Cidr, BareAddressIsAFullLengthPrefix) {
  EXPECT_TRUE(Contains("127.0.0.1", "127.0.0.1:5"));
  EXPECT_FALSE(Contains("127.0.0.1", "127.0.0.2:5"));
  EXPECT_TRUE(Contains("::1", "[::1]:5"));
  EXPECT_FALSE(Contains("::1", "[::2]:5"));
  ASSERT_OK_AND_ASSIGN(Cidr bare, Cidr::Parse("127.0.0.1"));
  EXPECT_EQ(bare.ToString(), "127.0.0.1/32");
}

TEST(Cidr, Ipv6Ranges) {
  EXPECT_TRUE(Contains("2001:db8::/32", "[2001:db8:1::5]:443"));
  EXPECT_FALSE(Contains("2001:db8::/32", "[2001:db9::5]:443"));
  EXPECT_TRUE(Contains("::1/128", "[::1]:1"));
  EXPECT_TRUE(Contains("fe80::/10", "[febf::1]:1"));
  EXPECT_FALSE(Contains("fe80::/10", "[fec0::1]:1"));
  ASSERT_OK_AND_ASSIGN(Cidr range, Cidr::Parse("2001:db8::/32"));
  EXPECT_EQ(range.ToString(), "2001:db8::/32");
}

TEST(Cidr, Ipv4MappedPeersMatchIpv4RangesAndNotOtherIpv6) {
  EXPECT_TRUE(Contains("10.0.0.0/8", "[::ffff:10.1.2.3]:80"));
  EXPECT_FALSE(Contains("10.0.0.0/8", "[::ffff:11.1.2.3]:80"));
  EXPECT_TRUE(Contains("::ffff:0:0/96", "1.2.3.4:80"));
  EXPECT_FALSE(Contains("::/96", "1.2.3.4:80"));
  EXPECT_FALSE(Contains("10.0.0.0/8", "[::a00:1]:80"));
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
