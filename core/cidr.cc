#include "core/cidr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace shoal::core {

namespace {

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// The address as 16 bytes (IPv4 as IPv4-mapped IPv6); false for other families.
bool AddressBytes(const SocketAddress& address, std::array<uint8_t, 16>* bytes) {
  if (address.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address.sockaddr_ptr());
    std::memcpy(bytes->data(), kMappedPrefix.data(), kMappedPrefix.size());
    std::memcpy(bytes->data() + 12, &in->sin_addr, 4);
    return true;
  }
  if (address.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address.sockaddr_ptr());
    std::memcpy(bytes->data(), &in6->sin6_addr, 16);
    return true;
  }
  return false;
}

bool PrefixMatches(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int bits) {
  int whole = bits / 8;
  if (std::memcmp(a.data(), b.data(), static_cast<size_t>(whole)) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[static_cast<size_t>(whole)] & mask) == (b[static_cast<size_t>(whole)] & mask);
}

absl::Status Invalid(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError("'" + std::string(text) + "' is not an address range: " +
                                    std::string(why));
}

}  // namespace

absl::StatusOr<Cidr> Cidr::Parse(std::string_view text) {
  std::string_view address_text = text;
  std::string_view prefix_text;
  bool has_prefix = false;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    address_text = text.substr(0, slash);
    prefix_text = text.substr(slash + 1);
    has_prefix = true;
  }
  if (address_text.empty() || address_text.size() >= INET6_ADDRSTRLEN) {
    return Invalid(text, "expected an IPv4 or IPv6 address");
  }
  std::string address(address_text);
  Cidr cidr;
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    cidr.ipv4_ = true;
    std::memcpy(cidr.bytes_.data(), kMappedPrefix.data(), kMappedPrefix.size());
    std::memcpy(cidr.bytes_.data() + 12, &v4, 4);
  } else if (inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
    std::memcpy(cidr.bytes_.data(), &v6, 16);
  } else {
    return Invalid(text, "expected an IPv4 or IPv6 address");
  }
  const int max_bits = cidr.ipv4_ ? 32 : 128;
  int bits = max_bits;
  if (has_prefix) {
    const char* end = prefix_text.data() + prefix_text.size();
    auto [ptr, error] = std::from_chars(prefix_text.data(), end, bits);
    if (prefix_text.empty() || error != std::errc() || ptr != end || bits < 0 ||
        bits > max_bits || (prefix_text.size() > 1 && prefix_text[0] == '0')) {
      return Invalid(text, "the prefix length must be 0.." + std::to_string(max_bits));
    }
  }
  cidr.prefix_bits_ = bits + (cidr.ipv4_ ? 96 : 0);
  std::array<uint8_t, 16> masked{};
  if (cidr.ipv4_) std::memcpy(masked.data(), kMappedPrefix.data(), kMappedPrefix.size());
  for (int bit = 0; bit < cidr.prefix_bits_; ++bit) {
    size_t byte = static_cast<size_t>(bit / 8);
    masked[byte] = static_cast<uint8_t>(masked[byte] | (cidr.bytes_[byte] & (0x80 >> (bit % 8))));
  }
  if (masked != cidr.bytes_) return Invalid(text, "bits are set past the prefix length");
  return cidr;
}

bool Cidr::Contains(const SocketAddress& address) const {
  std::array<uint8_t, 16> bytes;
  if (!AddressBytes(address, &bytes)) return false;
  return PrefixMatches(bytes, bytes_, prefix_bits_);
}

std::string Cidr::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (ipv4_) {
    inet_ntop(AF_INET, bytes_.data() + 12, text, sizeof(text));
  } else {
    inet_ntop(AF_INET6, bytes_.data(), text, sizeof(text));
  }
  return std::string(text) + "/" + std::to_string(prefix_bits_ - (ipv4_ ? 96 : 0));
}

bool AnyContains(const std::vector<Cidr>& ranges, const SocketAddress& address) {
  for (const Cidr& range : ranges) {
    if (range.Contains(address)) return true;
  }
  return false;
}

}  // namespace shoal::core
