// PROXY protocol headers on the wire as a load balancer sends them, for tests: version 1 lines
// and version 2 binary headers with optional TLVs. Pure functions, no I/O. Addresses are numeric
// "ip:port" / "[ip6]:port" text; a malformed one fails the calling test's EXPECT and yields "".
#ifndef SHOAL_TESTS_SUPPORT_PROXY_WIRE_H_
#define SHOAL_TESTS_SUPPORT_PROXY_WIRE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shoal::testing {

// "PROXY TCP4 1.2.3.4 5.6.7.8 1000 80\r\n" (TCP6 for IPv6 addresses).
std::string ProxyV1(std::string_view source, std::string_view destination);

struct ProxyTlv {
  uint8_t type;
  std::string value;
};

// A v2 PROXY command over STREAM for the addresses' family, with `tlvs` after the addresses.
std::string ProxyV2(std::string_view source, std::string_view destination,
                    const std::vector<ProxyTlv>& tlvs = {});
// A v2 LOCAL command (a balancer's own health check), family UNSPEC.
std::string ProxyV2Local();
// The 12-byte v2 signature.
std::string ProxyV2Signature();

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_PROXY_WIRE_H_
