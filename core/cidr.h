// Cidr: an IPv4 or IPv6 address range ("10.0.0.0/8", "2001:db8::/32", "::1/128"; a bare address
// is a full-length prefix). IPv4 ranges are held as their IPv4-mapped IPv6 form, so an
// IPv4-mapped IPv6 peer (a dual-stack listener's view of an IPv4 client) matches them, and
// "::ffff:0:0/96" matches every IPv4 peer. Bits past the prefix must be zero ("10.0.0.1/8" is
// refused: it is almost always a typo).
//
// A value type: copy freely, use from any thread. Contains is O(1) (16 bytes compared).
#ifndef SHOAL_CORE_CIDR_H_
#define SHOAL_CORE_CIDR_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/socket.h"

namespace shoal::core {

class Cidr {
 public:
  // InvalidArgument with the reason for anything but a numeric address with an optional prefix.
  static absl::StatusOr<Cidr> Parse(std::string_view text);

  bool Contains(const SocketAddress& address) const;
  // As written in canonical form: "10.0.0.0/8", "2001:db8::/32".
  std::string ToString() const;

  friend bool operator==(const Cidr&, const Cidr&) = default;

 private:
  Cidr() = default;

  std::array<uint8_t, 16> bytes_{};  // IPv6, or IPv4-mapped IPv6
  int prefix_bits_ = 0;             // of the 128
  bool ipv4_ = false;               // written as IPv4 (prefix shown minus 96)
};

// Whether any range in `ranges` contains `address`.
bool AnyContains(const std::vector<Cidr>& ranges, const SocketAddress& address);

}  // namespace shoal::core

#endif  // SHOAL_CORE_CIDR_H_
