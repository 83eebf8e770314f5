#include "core/proxy_header.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace shoal::core {

namespace {

using Status = ProxyDecodeResult::Status;

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};

constexpr uint8_t kV2CommandLocal = 0x0;
constexpr uint8_t kV2CommandProxy = 0x1;
constexpr uint8_t kV2FamilyUnspec = 0x0;
constexpr uint8_t kV2FamilyInet = 0x1;
constexpr uint8_t kV2FamilyInet6 = 0x2;
constexpr uint8_t kV2FamilyUnix = 0x3;
constexpr uint8_t kV2ProtocolStream = 0x1;
constexpr size_t kV2InetBlockBytes = 12;
constexpr size_t kV2Inet6BlockBytes = 36;
constexpr size_t kV2UnixBlockBytes = 216;
constexpr size_t kTlvHeaderBytes = 3;
constexpr size_t kMaxUniqueIdBytes = 128;

constexpr uint8_t kTlvAlpn = 0x01;
constexpr uint8_t kTlvAuthority = 0x02;
constexpr uint8_t kTlvUniqueId = 0x05;
constexpr uint8_t kTlvSsl = 0x20;

ProxyDecodeResult NeedMore() { return {}; }

ProxyDecodeResult Malformed(std::string_view why) {
  ProxyDecodeResult result;
  result.status = Status::kMalformed;
  result.error = why;
  return result;
}

// Whether `bytes` could still grow into something starting with `prefix`.
bool IsPrefixOf(std::string_view bytes, std::string_view prefix) {
  size_t n = std::min(bytes.size(), prefix.size());
  return bytes.substr(0, n) == prefix.substr(0, n);
}

size_t AddressBytes(int family) { return family == AF_INET ? 4 : 16; }

// `address`: AddressBytes(family) bytes in network order.
SocketAddress MakeAddress(int family, const void* address, uint16_t port_network_order) {
  if (family == AF_INET) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    std::memcpy(&in.sin_addr, address, 4);
    in.sin_port = port_network_order;
    return SocketAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&in), sizeof(in));
  }
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  std::memcpy(&in6.sin6_addr, address, 16);
  in6.sin6_port = port_network_order;
  return SocketAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&in6), sizeof(in6));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A decimal number of 1..max_digits digits without a leading zero, at most `max`.
bool ParseDecimal(std::string_view text, size_t max_digits, uint32_t max, uint32_t* value) {
  if (text.empty() || text.size() > max_digits) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  uint32_t result = 0;
  for (char c : text) {
    if (!IsDigit(c)) return false;
    result = result * 10 + static_cast<uint32_t>(c - '0');
  }
  if (result > max) return false;
  *value = result;
  return true;
}

bool ParseV1Ipv4(std::string_view text, void* address) {
  uint8_t octets[4];
  for (int i = 0; i < 4; ++i) {
    size_t dot = i < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos) return false;
    uint32_t octet = 0;
    if (!ParseDecimal(text.substr(0, dot), 3, 255, &octet)) return false;
    octets[i] = static_cast<uint8_t>(octet);
    text.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  std::memcpy(address, octets, 4);
  return true;
}

bool ParseV1Ipv6(std::string_view text, void* address) {
  char buffer[INET6_ADDRSTRLEN];
  if (text.empty() || text.size() >= sizeof(buffer)) return false;
  for (char c : text) {
    if (!IsDigit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') && c != ':' && c != '.') {
      return false;
    }
  }
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  return inet_pton(AF_INET6, buffer, address) == 1;
}

// Splits `line` at single spaces into exactly `n` fields.
bool SplitFields(std::string_view line, std::string_view* fields, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    size_t space = line.find(' ');
    if (i + 1 == n) {
      if (space != std::string_view::npos || line.empty()) return false;
      fields[i] = line;
      return true;
    }
    if (space == std::string_view::npos || space == 0) return false;
    fields[i] = line.substr(0, space);
    line.remove_prefix(space + 1);
  }
  return false;
}

ProxyDecodeResult DecodeV1(std::string_view bytes) {
  if (!IsPrefixOf(bytes, kV1Prefix)) return Malformed("not a PROXY v1 header");
  std::string_view window = bytes.substr(0, kMaxProxyV1HeaderBytes);
  size_t newline = window.find('\n');
  if (newline == std::string_view::npos) {
    return window.size() >= kMaxProxyV1HeaderBytes ? Malformed("v1 header longer than 107 bytes")
                                                   : NeedMore();
  }
  if (newline == 0 || window[newline - 1] != '\r') return Malformed("v1 line not ended by CRLF");
  std::string_view line = window.substr(kV1Prefix.size(), newline - 1 - kV1Prefix.size());

  ProxyDecodeResult result;
  result.status = Status::kComplete;
  result.header.length = newline + 1;
  result.header.version = 1;
  if (line.substr(0, 7) == "UNKNOWN" && (line.size() == 7 || line[7] == ' ')) return result;

  std::string_view fields[5];
  if (!SplitFields(line, fields, 5)) return Malformed("v1 header does not have 5 fields");
  uint32_t source_port = 0;
  uint32_t destination_port = 0;
  if (!ParseDecimal(fields[3], 5, 65535, &source_port) ||
      !ParseDecimal(fields[4], 5, 65535, &destination_port)) {
    return Malformed("v1 port is not a number 0..65535");
  }
  int family = AF_UNSPEC;
  if (fields[0] == "TCP4") {
    family = AF_INET;
  } else if (fields[0] == "TCP6") {
    family = AF_INET6;
  } else {
    return Malformed("v1 protocol is not TCP4, TCP6 or UNKNOWN");
  }
  auto parse = family == AF_INET ? &ParseV1Ipv4 : &ParseV1Ipv6;
  unsigned char source[16];
  unsigned char destination[16];
  if (!parse(fields[1], source) || !parse(fields[2], destination)) {
    return Malformed("v1 address is not one of the family TCP4/TCP6 names");
  }
  result.header.source = MakeAddress(family, source, htons(static_cast<uint16_t>(source_port)));
  result.header.destination =
      MakeAddress(family, destination, htons(static_cast<uint16_t>(destination_port)));
  return result;
}

uint16_t ReadBigEndian16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}

// Walks the TLVs tiling `block` and keeps the known ones; an error reason or empty.
std::string_view DecodeTlvs(std::string_view block, ProxyTlvs* tlvs) {
  while (!block.empty()) {
    if (block.size() < kTlvHeaderBytes) return "v2 TLV header truncated";
    if (++tlvs->count > kMaxProxyTlvs) return "v2 header has too many TLVs";
    const uint8_t type = static_cast<uint8_t>(block[0]);
    const size_t length = ReadBigEndian16(block.data() + 1);
    if (length > block.size() - kTlvHeaderBytes) return "v2 TLV overruns the header";
    std::string_view value = block.substr(kTlvHeaderBytes, length);
    switch (type) {
      case kTlvAlpn: tlvs->alpn = value; break;
      case kTlvAuthority: tlvs->authority = value; break;
      case kTlvUniqueId:
        if (value.size() > kMaxUniqueIdBytes) return "v2 unique id longer than 128 bytes";
        tlvs->unique_id = value;
        break;
      case kTlvSsl: tlvs->ssl = value; break;
      default: break;
    }
    block.remove_prefix(kTlvHeaderBytes + length);
  }
  return {};
}

ProxyDecodeResult DecodeV2(std::string_view bytes) {
  if (!IsPrefixOf(bytes, kV2Signature)) return Malformed("not a PROXY v2 signature");
  if (bytes.size() < kProxyV2FixedBytes) {
    // The version/command byte can be judged as soon as it arrives.
    if (bytes.size() > kV2Signature.size() && (static_cast<uint8_t>(bytes[12]) >> 4) != 2) {
      return Malformed("v2 header of another version");
    }
    return NeedMore();
  }
  const uint8_t version_command = static_cast<uint8_t>(bytes[12]);
  const uint8_t family_protocol = static_cast<uint8_t>(bytes[13]);
  const size_t payload = ReadBigEndian16(bytes.data() + 14);
  if ((version_command >> 4) != 2) return Malformed("v2 header of another version");
  const uint8_t command = version_command & 0x0f;
  if (command != kV2CommandLocal && command != kV2CommandProxy) {
    return Malformed("v2 command is neither LOCAL nor PROXY");
  }
  if (payload > kMaxProxyV2PayloadBytes) return Malformed("v2 header longer than the bound");
  if (bytes.size() < kProxyV2FixedBytes + payload) return NeedMore();

  ProxyDecodeResult result;
  result.status = Status::kComplete;
  result.header.length = kProxyV2FixedBytes + payload;
  result.header.version = 2;
  std::string_view block = bytes.substr(kProxyV2FixedBytes, payload);
  const uint8_t family = family_protocol >> 4;
  const uint8_t protocol = family_protocol & 0x0f;
  size_t address_bytes = 0;
  switch (family) {
    case kV2FamilyUnspec: break;
    case kV2FamilyInet: address_bytes = kV2InetBlockBytes; break;
    case kV2FamilyInet6: address_bytes = kV2Inet6BlockBytes; break;
    case kV2FamilyUnix: address_bytes = kV2UnixBlockBytes; break;
    default: return Malformed("v2 address family unknown");
  }
  if (protocol > 2) return Malformed("v2 transport protocol unknown");
  if (command == kV2CommandLocal) {
    result.header.local = true;
    return result;  // the block is the sender's business; nothing in it is used
  }
  if (block.size() < address_bytes) return Malformed("v2 address block shorter than its family");
  if (family == kV2FamilyInet || family == kV2FamilyInet6) {
    if (protocol != kV2ProtocolStream) return Malformed("v2 transport is not a stream");
    const int ip_family = family == kV2FamilyInet ? AF_INET : AF_INET6;
    const size_t ip_bytes = AddressBytes(ip_family);
    const char* p = block.data();
    uint16_t source_port;
    uint16_t destination_port;
    std::memcpy(&source_port, p + 2 * ip_bytes, 2);
    std::memcpy(&destination_port, p + 2 * ip_bytes + 2, 2);
    result.header.source = MakeAddress(ip_family, p, source_port);
    result.header.destination = MakeAddress(ip_family, p + ip_bytes, destination_port);
  }
  if (std::string_view error = DecodeTlvs(block.substr(address_bytes), &result.header.tlvs);
      !error.empty()) {
    return Malformed(error);
  }
  return result;
}

}  // namespace

ProxyDecodeResult DecodeProxyHeader(std::string_view bytes, ProxyProtocolMode mode) {
  if (bytes.empty()) return NeedMore();
  switch (mode) {
    case ProxyProtocolMode::kV1:
      return DecodeV1(bytes);
    case ProxyProtocolMode::kV2:
      return DecodeV2(bytes);
    case ProxyProtocolMode::kAny:
      return bytes[0] == kV1Prefix[0] ? DecodeV1(bytes) : DecodeV2(bytes);
    case ProxyProtocolMode::kOff:
      break;
  }
  return Malformed("no PROXY header is expected");
}

}  // namespace shoal::core
