// Why a connection was closed. Every close carries exactly one reason; the names are the
// `reason` label values of shoal_connections_closed_total (docs/design.md).
#ifndef SHOAL_CORE_CLOSE_REASON_H_
#define SHOAL_CORE_CLOSE_REASON_H_

#include <cstddef>
#include <string_view>

namespace shoal::core {

enum class CloseReason {
  kPeerClosed,
  kIdleTimeout,
  kReadTimeout,
  kWriteTimeout,
  kProtocolError,
  kFrameTooLarge,
  kReset,
  kOverload,
  kShutdown,
  kTlsError,
  kProxyProtocolError,
  kSourceLimit,
  kMaxAge,
  kMemoryPressure,
};

inline constexpr size_t kCloseReasonCount = 14;

constexpr std::string_view CloseReasonName(CloseReason reason) {
  switch (reason) {
    case CloseReason::kPeerClosed: return "peer_closed";
    case CloseReason::kIdleTimeout: return "idle_timeout";
    case CloseReason::kReadTimeout: return "read_timeout";
    case CloseReason::kWriteTimeout: return "write_timeout";
    case CloseReason::kProtocolError: return "protocol_error";
    case CloseReason::kFrameTooLarge: return "frame_too_large";
    case CloseReason::kReset: return "reset";
    case CloseReason::kOverload: return "overload";
    case CloseReason::kShutdown: return "shutdown";
    case CloseReason::kTlsError: return "tls_error";
    case CloseReason::kProxyProtocolError: return "proxy_protocol_error";
    case CloseReason::kSourceLimit: return "source_limit";
    case CloseReason::kMaxAge: return "max_age";
    case CloseReason::kMemoryPressure: return "memory_pressure";
  }
  return "unknown";
}

}  // namespace shoal::core

#endif  // SHOAL_CORE_CLOSE_REASON_H_
