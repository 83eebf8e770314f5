#include "core/proxy_header.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/proxy_wire.h"

namespace shoal::core {
namespace {

using shoal::testing::ProxyTlv;
using shoal::testing::ProxyV1;
using shoal::testing::ProxyV2;
using shoal::testing::ProxyV2Local;
using shoal::testing::ProxyV2Signature;
using Status = ProxyDecodeResult::Status;

ProxyDecodeResult Decode(const std::string& bytes,
                         ProxyProtocolMode mode = ProxyProtocolMode::kAny) {
  return DecodeProxyHeader(bytes, mode);
}

void ExpectMalformed(const std::string& bytes, ProxyProtocolMode mode = ProxyProtocolMode::kAny) {
  ProxyDecodeResult result = Decode(bytes, mode);
  EXPECT_EQ(result.status, Status::kMalformed) << ::testing::PrintToString(bytes);
  if (result.status == Status::kMalformed) {
    EXPECT_FALSE(result.error.empty());
  }
}

// Every proper prefix needs more; the whole decodes exactly as when it arrives at once.
void ExpectCompleteOnlyAtTheEnd(const std::string& header, ProxyProtocolMode mode) {
  for (size_t n = 0; n < header.size(); ++n) {
    EXPECT_EQ(Decode(header.substr(0, n), mode).status, Status::kNeedMore)
        << n << " bytes of " << ::testing::PrintToString(header);
  }
  ProxyDecodeResult result = Decode(header, mode);
  ASSERT_EQ(result.status, Status::kComplete) << result.error;
  EXPECT_EQ(result.header.length, header.size());
}

std::string V2WithLength(uint8_t version_command, uint8_t family_protocol,
                         const std::string& body) {
  std::string header = ProxyV2Signature();
  header.push_back(static_cast<char>(version_command));
  header.push_back(static_cast<char>(family_protocol));
  header.push_back(static_cast<char>(body.size() >> 8));
  header.push_back(static_cast<char>(body.size() & 0xff));
  return header + body;
}

TEST(ProxyHeaderV1, Tcp4GivesBothAddressesAndLeavesWhatFollows) {
  const std::string header = "PROXY TCP4 192.168.0.1 10.0.0.2 56324 443\r\n";
  ProxyDecodeResult result = Decode(header + "GET / HTTP/1.1\r\n", ProxyProtocolMode::kV1);
  ASSERT_EQ(result.status, Status::kComplete) << result.error;
  EXPECT_EQ(result.header.version, 1);
  EXPECT_EQ(result.header.length, header.size());
  EXPECT_FALSE(result.header.local);
  ASSERT_TRUE(result.header.source.has_value());
  EXPECT_EQ(result.header.source->ToString(), "192.168.0.1:56324");
  EXPECT_EQ(result.header.destination->ToString(), "10.0.0.2:443");
}

TEST(ProxyHeaderV1, Tcp6) {
  ProxyDecodeResult result =
      Decode("PROXY TCP6 2001:db8::1 ::1 65535 0\r\n", ProxyProtocolMode::kV1);
  ASSERT_EQ(result.status, Status::kComplete) << result.error;
  EXPECT_EQ(result.header.source->ToString(), "[2001:db8::1]:65535");
  EXPECT_EQ(result.header.destination->ToString(), "[::1]:0");
}

TEST(ProxyHeaderV1, UnknownCarriesNoAddress) {
  for (std::string header : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff:f...f:ffff 1 2 3\r\n"}) {
    ProxyDecodeResult result = Decode(header, ProxyProtocolMode::kV1);
    ASSERT_EQ(result.status, Status::kComplete) << header;
    EXPECT_EQ(result.header.length, header.size());
    EXPECT_FALSE(result.header.source.has_value());
  }
}

TEST(ProxyHeaderV1, ArrivingOneByteAtATime) {
  ExpectCompleteOnlyAtTheEnd(ProxyV1("1.2.3.4:1000", "5.6.7.8:80"), ProxyProtocolMode::kV1);
  ExpectCompleteOnlyAtTheEnd(ProxyV1("[::1]:1000", "[::2]:80"), ProxyProtocolMode::kAny);
}

TEST(ProxyHeaderV1, MalformedLines) {
  const std::vector<std::string> malformed = {
      "GET / HTTP/1.1\r\n",                                  // not a header at all
      "PROXY\r\n",                                           // no fields
      "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",                  // case
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",                    // LF without CR
      "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",                    // too few fields
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",                // too many fields
      "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",                 // double space
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",                 // trailing space
      "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",                  // protocol
      "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",              // port range
      "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",                 // leading zero in a port
      "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",                 // sign
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 999999\r\n",             // port digits
      "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",                 // leading zero in an octet
      "PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n",                // octet range
      "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",                    // three octets
      "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n",                // five octets
      "PROXY TCP4 ::1 5.6.7.8 1 2\r\n",                      // family mismatch
      "PROXY TCP6 1.2.3.4 ::1 1 2\r\n",                      // family mismatch
      "PROXY TCP6 ::1%eth0 ::1 1 2\r\n",                     // zone
      "PROXY TCP6 :::1 ::1 1 2\r\n",                         // not IPv6
  };
  for (const std::string& bytes : malformed) ExpectMalformed(bytes, ProxyProtocolMode::kV1);
}

TEST(ProxyHeaderV1, LongerThan107BytesIsMalformedEvenWithoutItsEnd) {
  std::string long_line = "PROXY UNKNOWN " + std::string(100, 'x');
  ASSERT_GE(long_line.size(), kMaxProxyV1HeaderBytes);
  ExpectMalformed(long_line, ProxyProtocolMode::kV1);
  std::string at_limit = "PROXY UNKNOWN " + std::string(kMaxProxyV1HeaderBytes - 16, 'x') + "\r\n";
  ASSERT_EQ(at_limit.size(), kMaxProxyV1HeaderBytes);
  EXPECT_EQ(Decode(at_limit, ProxyProtocolMode::kV1).status, Status::kComplete);
  ExpectMalformed("PROXY UNKNOWN " + std::string(kMaxProxyV1HeaderBytes - 15, 'x') + "\r\n",
                  ProxyProtocolMode::kV1);
}

TEST(ProxyHeaderV1, WrongVersionForTheListener) {
  ExpectMalformed(ProxyV2("1.2.3.4:1", "5.6.7.8:2"), ProxyProtocolMode::kV1);
  ExpectMalformed(ProxyV1("1.2.3.4:1", "5.6.7.8:2"), ProxyProtocolMode::kV2);
}

TEST(ProxyHeaderV2, Ipv4WithTlvsKeptAsViews) {
  const std::string header =
      ProxyV2("10.1.2.3:40000", "10.0.0.1:443",
              {{0x01, "h2"}, {0x02, "example.com"}, {0x05, "id-42"}, {0x20, std::string(5, '\1')},
               {0x04, "noop"}, {0xE0, "custom"}});
  const std::string received = header + "after";  // the TLV views point into it
  ProxyDecodeResult result = Decode(received, ProxyProtocolMode::kV2);
  ASSERT_EQ(result.status, Status::kComplete) << result.error;
  EXPECT_EQ(result.header.version, 2);
  EXPECT_EQ(result.header.length, header.size());
  EXPECT_EQ(result.header.source->ToString(), "10.1.2.3:40000");
  EXPECT_EQ(result.header.destination->ToString(), "10.0.0.1:443");
  EXPECT_EQ(result.header.tlvs.alpn, "h2");
  EXPECT_EQ(result.header.tlvs.authority, "example.com");
  EXPECT_EQ(result.header.tlvs.unique_id, "id-42");
  EXPECT_EQ(result.header.tlvs.ssl.size(), 5u);
  EXPECT_EQ(result.header.tlvs.count, 6u);
}

TEST(ProxyHeaderV2, Ipv6) {
  ProxyDecodeResult result = Decode(ProxyV2("[2001:db8::7]:1234", "[::1]:80"));
  ASSERT_EQ(result.status, Status::kComplete) << result.error;
  EXPECT_EQ(result.header.source->ToString(), "[2001:db8::7]:1234");
  EXPECT_EQ(result.header.destination->ToString(), "[::1]:80");
}

TEST(ProxyHeaderV2, LocalAndUnspecCarryNoAddress) {
  ProxyDecodeResult local = Decode(ProxyV2Local(), ProxyProtocolMode::kV2);
  ASSERT_EQ(local.status, Status::kComplete) << local.error;
  EXPECT_TRUE(local.header.local);
  EXPECT_FALSE(local.header.source.has_value());
  EXPECT_EQ(local.header.length, 16u);

  // LOCAL with an address block: skipped whole.
  std::string local_with_block = V2WithLength(0x20, 0x11, std::string(12, '\7'));
  ProxyDecodeResult skipped = Decode(local_with_block);
  ASSERT_EQ(skipped.status, Status::kComplete) << skipped.error;
  EXPECT_EQ(skipped.header.length, 28u);
  EXPECT_FALSE(skipped.header.source.has_value());

  ProxyDecodeResult unspec = Decode(V2WithLength(0x21, 0x00, ""));
  ASSERT_EQ(unspec.status, Status::kComplete) << unspec.error;
  EXPECT_FALSE(unspec.header.local);
  EXPECT_FALSE(unspec.header.source.has_value());

  ProxyDecodeResult unix_family = Decode(V2WithLength(0x21, 0x31, std::string(216, 'u')));
  ASSERT_EQ(unix_family.status, Status::kComplete) << unix_family.error;
  EXPECT_FALSE(unix_family.header.source.has_value());
}

TEST(ProxyHeaderV2, ArrivingOneByteAtATime) {
  ExpectCompleteOnlyAtTheEnd(ProxyV2("1.2.3.4:1", "5.6.7.8:2", {{0x01, "http/1.1"}}),
                             ProxyProtocolMode::kV2);
  ExpectCompleteOnlyAtTheEnd(ProxyV2("[::1]:1", "[::2]:2"), ProxyProtocolMode::kAny);
  ExpectCompleteOnlyAtTheEnd(ProxyV2Local(), ProxyProtocolMode::kAny);
}

TEST(ProxyHeaderV2, MalformedHeaders) {
  const std::string address_block(12, '\1');
  std::string bad_signature = ProxyV2("1.2.3.4:1", "5.6.7.8:2");
  bad_signature[5] = 'X';
  ExpectMalformed(bad_signature);
  ExpectMalformed(V2WithLength(0x11, 0x11, address_block));  // version 1 in a v2 header
  ExpectMalformed(V2WithLength(0x31, 0x11, address_block));  // version 3
  ExpectMalformed(V2WithLength(0x22, 0x11, address_block));  // command 2
  ExpectMalformed(V2WithLength(0x21, 0x41, address_block));  // family 4
  ExpectMalformed(V2WithLength(0x21, 0x13, address_block));  // protocol 3
  ExpectMalformed(V2WithLength(0x21, 0x12, address_block));  // DGRAM
  ExpectMalformed(V2WithLength(0x21, 0x10, address_block));  // INET over UNSPEC protocol
  ExpectMalformed(V2WithLength(0x21, 0x11, std::string(11, '\1')));  // short IPv4 block
  ExpectMalformed(V2WithLength(0x21, 0x21, std::string(35, '\1')));  // short IPv6 block
  ExpectMalformed(V2WithLength(0x21, 0x31, std::string(215, '\1')));  // short UNIX block
}

TEST(ProxyHeaderV2, VersionByteIsJudgedBeforeTheRestArrives) {
  std::string partial = ProxyV2Signature() + "\x11";
  ExpectMalformed(partial);
}

TEST(ProxyHeaderV2, LengthBeyondTheBoundIsMalformedAtOnce) {
  std::string header = ProxyV2Signature() + "\x21\x11";
  header.push_back(static_cast<char>((kMaxProxyV2PayloadBytes + 1) >> 8));
  header.push_back(static_cast<char>((kMaxProxyV2PayloadBytes + 1) & 0xff));
  ExpectMalformed(header);
  const size_t filler = kMaxProxyV2PayloadBytes - 12 - 3;
  std::string at_bound = ProxyV2("1.2.3.4:1", "5.6.7.8:2", {{0xE0, std::string(filler, 'f')}});
  ASSERT_EQ(at_bound.size(), kMaxProxyV2HeaderBytes);
  EXPECT_EQ(Decode(at_bound).status, Status::kComplete) << Decode(at_bound).error;
  ExpectMalformed(ProxyV2("1.2.3.4:1", "5.6.7.8:2", {{0xE0, std::string(filler + 1, 'f')}}));
}

TEST(ProxyHeaderV2, TlvsMustTileTheRestExactly) {
  const std::string addresses = ProxyV2("1.2.3.4:1", "5.6.7.8:2").substr(16);
  // A TLV header cut short, a value running past the end, and a good TLV then a stray byte.
  ExpectMalformed(V2WithLength(0x21, 0x11, addresses + std::string("\x01\x00", 2)));
  ExpectMalformed(V2WithLength(0x21, 0x11, addresses + std::string("\x01\x00\x05" "abcd", 7)));
  ExpectMalformed(V2WithLength(0x21, 0x11, addresses + std::string("\x01\x00\x01" "a" "z", 5)));
  // Empty values are fine.
  ProxyDecodeResult empty =
      Decode(V2WithLength(0x21, 0x11, addresses + std::string("\x01\x00\x00", 3)));
  ASSERT_EQ(empty.status, Status::kComplete) << empty.error;
  EXPECT_EQ(empty.header.tlvs.count, 1u);
  EXPECT_TRUE(empty.header.tlvs.alpn.empty());
}

TEST(ProxyHeaderV2, TlvCountAndUniqueIdAreBounded) {
  std::vector<ProxyTlv> at_limit(kMaxProxyTlvs, ProxyTlv{0x04, ""});
  EXPECT_EQ(Decode(ProxyV2("1.2.3.4:1", "5.6.7.8:2", at_limit)).status, Status::kComplete);
  std::vector<ProxyTlv> beyond(kMaxProxyTlvs + 1, ProxyTlv{0x04, ""});
  ExpectMalformed(ProxyV2("1.2.3.4:1", "5.6.7.8:2", beyond));
  EXPECT_EQ(Decode(ProxyV2("1.2.3.4:1", "5.6.7.8:2", {{0x05, std::string(128, 'i')}})).status,
            Status::kComplete);
  ExpectMalformed(ProxyV2("1.2.3.4:1", "5.6.7.8:2", {{0x05, std::string(129, 'i')}}));
}

TEST(ProxyHeader, AnyTellsTheVersionsApartByTheFirstByte) {
  EXPECT_EQ(Decode(ProxyV1("1.2.3.4:1", "5.6.7.8:2")).header.version, 1);
  EXPECT_EQ(Decode(ProxyV2("1.2.3.4:1", "5.6.7.8:2")).header.version, 2);
  ExpectMalformed("\x16\x03\x01");  // a TLS ClientHello where a header belongs
  ExpectMalformed("G");
  EXPECT_EQ(Decode("").status, Status::kNeedMore);
}

}  // namespace
}  // namespace shoal::core
