// HTTP clients for tests over real loopback sockets: RawClient, one connection that sends any
// bytes and reads responses, pipelined or not (parsed strictly by http_wire.h); and
// HttpRequest/HttpGet, one request on its own connection ("Connection: close").
// Every call is bounded by a deadline; failures are reported through the return value (tests
// ASSERT on them). Threading: one RawClient per thread.
#ifndef SHOAL_TESTS_SUPPORT_HTTP_CLIENT_H_
#define SHOAL_TESTS_SUPPORT_HTTP_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/socket.h"
#include "tests/support/deadline.h"
#include "tests/support/http_wire.h"

namespace shoal::testing {

class RawClient {
 public:
  // Connects to 127.0.0.1:port (TCP_NODELAY). Check connected().
  RawClient(uint16_t port, Deadline deadline);
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_.valid(); }
  // Closes our end (the server sees FIN).
  void Close() { fd_.reset(); }
  int fd() const { return fd_.get(); }

  // Writes all of `bytes` (one send() call when the socket takes it whole).
  bool Send(std::string_view bytes, Deadline deadline);

  // Writes all of `bytes` while reading whatever arrives meanwhile into pending(), so a server
  // that stops reading until its replies are read (backpressure) cannot deadlock the test.
  bool SendWhileReading(std::string_view bytes, Deadline deadline);

  // Reads and parses the next response. nullopt on EOF, error, timeout or a malformed response;
  // last_error() says which.
  std::optional<HttpResponse> ReadResponse(bool head_request, Deadline deadline);
  // Reads until `n` bytes are buffered (returns them, consumed) or EOF/timeout (returns nullopt).
  std::optional<std::string> ReadExactly(size_t n, Deadline deadline);
  // Waits for the server to end the stream with no further bytes: true on FIN (or a reset after
  // all data was read). Bytes that arrive instead make it false, recorded in last_error().
  bool WaitForClose(Deadline deadline);

  // Bytes received and not yet consumed by ReadResponse/ReadExactly.
  const std::string& pending() const { return buffer_; }
  bool eof() const { return eof_; }
  const std::string& last_error() const { return last_error_; }

 private:
  // Reads what is available (waiting up to the deadline for something); false on timeout, EOF
  // or error.
  bool ReadSome(Deadline deadline);

  core::ScopedFd fd_;
  std::string buffer_;
  bool eof_ = false;
  std::string last_error_;
};

// Sends `method` `target` to 127.0.0.1:`port` on a new connection and reads the response.
// nullopt on a connect/read failure, a timeout, or a malformed response.
std::optional<HttpResponse> HttpRequest(int port, std::string_view method,
                                        std::string_view target, Deadline deadline = seconds(10));
inline std::optional<HttpResponse> HttpGet(int port, std::string_view target,
                                           Deadline deadline = seconds(10)) {
  return HttpRequest(port, "GET", target, deadline);
}

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_HTTP_CLIENT_H_
