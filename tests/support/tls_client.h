// TlsClient: a blocking-style OpenSSL client for tests, every call bounded by a Deadline (the
// socket is non-blocking underneath; waits are poll()s). Verifies the server against `ca_file`
// when one is given. Also builds several TLS records into one send() (WriteRecordsInOneSend), so a
// test can deliver many records in a single TCP segment burst.
//
// Threading: one TlsClient per thread. Creating one ignores SIGPIPE in the process (a test's
// write to a connection the server closed must fail, not kill the test).
#ifndef SHOAL_TESTS_SUPPORT_TLS_CLIENT_H_
#define SHOAL_TESTS_SUPPORT_TLS_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/socket.h"
#include "tests/support/deadline.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace shoal::testing {

struct TlsClientOptions {
  std::string ca_file;              // PEM trust anchor; empty = no verification
  std::string server_name = "localhost";  // SNI and the name verified
  std::vector<std::string> alpn;    // offered protocols; empty = no ALPN
  int max_version = 0;              // e.g. TLS1_2_VERSION to cap; 0 = library maximum
  int receive_buffer = 0;           // SO_RCVBUF before connect (0 = kernel default)
};

class TlsClient {
 public:
  // Connects to 127.0.0.1:port and completes the handshake.
  static absl::StatusOr<std::unique_ptr<TlsClient>> Connect(uint16_t port,
                                                            const TlsClientOptions& options,
                                                            Deadline deadline = seconds(5));
  ~TlsClient();

  absl::Status Write(std::string_view bytes, Deadline deadline = seconds(5));
  // Each of `records` encrypted as its own TLS record, all sent with one send().
  absl::Status WriteRecordsInOneSend(const std::vector<std::string>& records,
                                     Deadline deadline = seconds(5));
  absl::StatusOr<std::string> ReadExactly(size_t n, Deadline deadline = seconds(5));
  // Reads until `delimiter` was read; returns everything up to and including it.
  absl::StatusOr<std::string> ReadUntil(std::string_view delimiter,
                                        Deadline deadline = seconds(5));
  // Reads to the end of the stream: the bytes read, and whether it ended with close_notify
  // (OK) or without (DataLoss: FIN alone; Unavailable: reset).
  struct End {
    std::string data;
    absl::Status how;
  };
  End ReadToEnd(Deadline deadline = seconds(5));
  // Sends close_notify.
  absl::Status Shutdown(Deadline deadline = seconds(5));

  // "TLSv1.3", the negotiated ALPN protocol ("" for none), the server certificate's subject
  // (one line) and serial (hex).
  std::string version() const;
  std::string alpn() const;
  std::string peer_subject() const;
  std::string peer_serial() const;
  int fd() const { return fd_.get(); }

 private:
  TlsClient(core::ScopedFd fd, SSL_CTX* ctx, SSL* ssl);
  // Runs `op` until it succeeds, fails, or the deadline passes (polling as OpenSSL asks).
  absl::StatusOr<int> Retry(const char* what, Deadline deadline, const std::function<int()>& op);

  core::ScopedFd fd_;
  SSL_CTX* ctx_;
  SSL* ssl_;
  std::string buffered_;
};

// Starts a handshake without finishing it: the client's first flight cut to its first `bytes`
// bytes, sent on a fresh connection that is returned (for slow-handshake tests).
absl::StatusOr<core::ScopedFd> SendPartialClientHello(uint16_t port, size_t bytes,
                                                      Deadline deadline = seconds(5));

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_TLS_CLIENT_H_
