// ErrorCounts: loadgen's errors by kind. A plain value; not thread-safe.
#ifndef SHOAL_TOOLS_LOADGEN_ERROR_COUNTS_H_
#define SHOAL_TOOLS_LOADGEN_ERROR_COUNTS_H_

#include <cstdint>
#include <string_view>

namespace shoal::loadgen {

struct ErrorCounts {
  uint64_t connect = 0;   // connect() failed or timed out
  uint64_t reset = 0;     // ECONNRESET, EPIPE or another socket error on an open connection
  uint64_t timeout = 0;   // a response did not arrive within timeout_ns
  uint64_t eof = 0;       // the server closed while requests were in flight, or unexpectedly
  uint64_t mismatch = 0;  // a response differed from its request (--verify)
  uint64_t status = 0;    // http: non-2xx; resp: an error reply
  uint64_t protocol = 0;  // unparseable response, wrong length, unsolicited bytes
  uint64_t tls_handshake = 0;  // --tls: the handshake failed (verification, alert) or timed out

  // Every kind with its name, in the order the reports show them.
  template <typename Fn>
  void ForEachKind(Fn fn) const {
    fn(std::string_view("connect"), connect);
    fn(std::string_view("reset"), reset);
    fn(std::string_view("timeout"), timeout);
    fn(std::string_view("eof"), eof);
    fn(std::string_view("mismatch"), mismatch);
    fn(std::string_view("status"), status);
    fn(std::string_view("protocol"), protocol);
    fn(std::string_view("tls_handshake"), tls_handshake);
  }
  uint64_t total() const {
    return connect + reset + timeout + eof + mismatch + status + protocol + tls_handshake;
  }
  void Add(const ErrorCounts& other) {
    connect += other.connect;
    reset += other.reset;
    timeout += other.timeout;
    eof += other.eof;
    mismatch += other.mismatch;
    status += other.status;
    protocol += other.protocol;
    tls_handshake += other.tls_handshake;
  }
};

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_ERROR_COUNTS_H_
