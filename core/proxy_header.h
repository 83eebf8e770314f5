// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) a load balancer
// sends first on a connection to say whose it is: a pure decoder, no I/O, no allocation.
//
// DecodeProxyHeader looks at the bytes received so far (from the first byte of the connection)
// and says: more are needed, the header is malformed (with a static reason), or it is complete
// (its length, so the caller consumes exactly that much and leaves what follows to the session).
// Bytes past the header are never looked at. O(n) in the header's length, which is bounded:
// version 1 by kMaxProxyV1HeaderBytes (the spec's 107), version 2 by kMaxProxyV2HeaderBytes
// (16 fixed bytes plus an address block and TLVs of at most kMaxProxyV2PayloadBytes; a longer
// header is refused, whatever its TLVs). At most kMaxProxyTlvs TLVs are accepted.
//
// LOCAL (v2: a balancer's own health check), UNKNOWN (v1), and UNSPEC or UNIX families (v2) carry
// no client address: `source` is then empty and the socket's own peer stands.
//
// Strictness: v1 takes exactly one space between fields, decimal ports 0..65535 without leading
// zeros, dotted-quad IPv4 without leading zeros, IPv6 that inet_pton parses, and the family named
// by TCP4/TCP6. v2 takes version 2, command LOCAL or PROXY, and for INET/INET6 the STREAM
// protocol and an address block that fits the declared length; the TLVs must tile the rest
// exactly.
#ifndef SHOAL_CORE_PROXY_HEADER_H_
#define SHOAL_CORE_PROXY_HEADER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/socket.h"

namespace shoal::core {

// Which headers a listener requires first on every connection (kOff: none, the bytes are the
// session's).
enum class ProxyProtocolMode { kOff, kV1, kV2, kAny };

inline constexpr size_t kMaxProxyV1HeaderBytes = 107;
inline constexpr size_t kProxyV2FixedBytes = 16;
inline constexpr size_t kMaxProxyV2PayloadBytes = 1024;
inline constexpr size_t kMaxProxyV2HeaderBytes = kProxyV2FixedBytes + kMaxProxyV2PayloadBytes;
// What a reader ever needs to look at to decide.
inline constexpr size_t kMaxProxyHeaderBytes = kMaxProxyV2HeaderBytes;
inline constexpr size_t kMaxProxyTlvs = 32;

// Views into the decoded bytes (valid while they are) of the v2 TLVs shoal keeps; the others are
// walked for bounds and ignored.
struct ProxyTlvs {
  std::string_view alpn;       // PP2_TYPE_ALPN
  std::string_view authority;  // PP2_TYPE_AUTHORITY (the client's SNI)
  std::string_view unique_id;  // PP2_TYPE_UNIQUE_ID (at most 128 bytes)
  std::string_view ssl;        // PP2_TYPE_SSL, raw (client flags, verify, sub-TLVs)
  size_t count = 0;            // every TLV seen, kept or not
};

struct ProxyHeader {
  size_t length = 0;  // bytes of the connection the header occupies
  int version = 0;    // 1 or 2
  bool local = false;  // LOCAL command: the sender speaks for itself
  // The client and the address it connected to; empty when the header carries none.
  std::optional<SocketAddress> source;
  std::optional<SocketAddress> destination;
  ProxyTlvs tlvs;
};

struct ProxyDecodeResult {
  enum class Status { kNeedMore, kMalformed, kComplete };
  Status status = Status::kNeedMore;
  std::string_view error;  // kMalformed: why (a static string)
  ProxyHeader header;      // kComplete
};

// `mode` must not be kOff. kAny tells the versions apart by the first byte.
ProxyDecodeResult DecodeProxyHeader(std::string_view bytes, ProxyProtocolMode mode);

}  // namespace shoal::core

#endif  // SHOAL_CORE_PROXY_HEADER_H_
