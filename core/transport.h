// The seam between a connection's socket and the bytes its session sees. A plaintext connection
// reads and writes the socket directly (no transport object, no indirection); a secure one goes
// through a TlsSession (core/tls/tls_session.h), whose operations report what they did in these
// terms. Connection (core/connection.h) is the only caller; protocols never see a transport.
#ifndef SHOAL_CORE_TRANSPORT_H_
#define SHOAL_CORE_TRANSPORT_H_

#include <cstddef>

namespace shoal::core {

enum class TransportStatus {
  kDone,       // the operation completed (`bytes` tells how much moved, for reads and writes)
  kWantRead,   // retry once the socket is readable (whatever the operation was)
  kWantWrite,  // retry once the socket is writable (whatever the operation was)
  kClosed,     // the peer ended the stream (close_notify or a FIN)
  kReset,      // the socket failed (ECONNRESET, EPIPE, ...)
  kError,      // a protocol error: the stream cannot continue (close reason tls_error)
};

struct TransportResult {
  TransportStatus status = TransportStatus::kDone;
  size_t bytes = 0;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_TRANSPORT_H_
