// Test support for the HTTP integration tests: an in-process core::Server serving
// http::HttpProtocol on 127.0.0.1:0, a raw client socket with deadlines, a strict parser for the
// responses we send, and a child-process runner (for curl, wrk and the shoal binary) that captures
// stdout and stderr.
//
// Synchronisation rule: nothing here sleeps to let something happen. Every wait is for a
// condition (bytes, EOF, a log line, an exit, a counter), polled with a bounded deadline.
//
// Threading: everything runs on the test thread; HttpTestServer's counters read the workers'
// relaxed-atomic stats (core/stats.h).
#ifndef SHOAL_TESTS_INTEGRATION_HTTP_HTTP_TEST_SUPPORT_H_
#define SHOAL_TESTS_INTEGRATION_HTTP_HTTP_TEST_SUPPORT_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/close_reason.h"
#include "core/connection.h"
#include "core/server.h"
#include "server/protocols/http/request_parser.h"
#include "server/protocols/http/router.h"

namespace shoal::http_test {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A point in time to give up at.
class Deadline {
 public:
  static Deadline In(Clock::duration d) { return Deadline(Clock::now() + d); }
  explicit Deadline(Clock::time_point at) : at_(at) {}
  bool expired() const { return Clock::now() >= at_; }
  // Milliseconds left, rounded up, at least 0 (a poll() timeout).
  int remaining_ms() const;

 private:
  Clock::time_point at_;
};

// Polls `condition` until it holds or `deadline` passes; returns whether it held.
bool WaitFor(const std::function<bool()>& condition, Deadline deadline);

// ---------------------------------------------------------------------------------------------
// The in-process server.

struct HttpTestServerOptions {
  int workers = 1;
  http::Limits limits;
  core::ConnectionSettings settings;
  // Null: http::MakeDefaultRouter().
  std::shared_ptr<const http::Router> router;
};

// A started core::Server with one HTTP listener ("http", options.router) on
// 127.0.0.1:0. Stops and joins the workers on destruction.
class HttpTestServer {
 public:
  explicit HttpTestServer(const HttpTestServerOptions& options = {});
  ~HttpTestServer();

  // False (with the reason in error()) if the server did not start.
  bool ok() const { return server_ != nullptr; }
  const std::string& error() const { return error_; }
  uint16_t port() const { return port_; }

  // Sums over every worker.
  uint64_t bytes_received() const;
  uint64_t requests() const;
  uint64_t closed(core::CloseReason reason) const;
  int64_t active() const;

 private:
  std::unique_ptr<core::Server> server_;
  std::string error_;
  uint16_t port_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Responses as we send them: a status line, header fields, and a Content-Length body (none after
// HEAD, none for 1xx).

struct HttpResponse {
  std::string raw;  // every byte of the response
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The value of the first field named `name` (ASCII case-insensitive), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
  size_t HeaderCount(std::string_view name) const;
};

enum class ParseOutcome { kNeedMore, kDone, kMalformed };

// Parses the response at the start of `data`. On kDone fills `out` and `*consumed`; on kMalformed
// puts the reason in `out->reason`. `head_request` means the response has no body whatever its
// Content-Length says.
ParseOutcome ParseResponse(std::string_view data, bool head_request, HttpResponse* out,
                           size_t* consumed);

// Whether `value` is an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").
bool IsImfFixdate(std::string_view value);
// The response bytes shoal sends for these fields (Date given), for byte-exact comparisons.
std::string ExpectedResponse(int status, std::string_view date, std::string_view content_type,
                             std::string_view body, bool head_request,
                             std::string_view connection_field = {},
                             std::string_view extra_fields = {});

// ---------------------------------------------------------------------------------------------
// A raw client connection. Every call is bounded by a deadline; failures are reported through the
// return value (tests ASSERT on them) rather than by aborting.

class RawClient {
 public:
  // Connects to 127.0.0.1:port (TCP_NODELAY). Check connected().
  RawClient(uint16_t port, Deadline deadline);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Closes our end (the server sees FIN).
  void Close();
  int fd() const { return fd_; }

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

  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
  std::string last_error_;
};

// ---------------------------------------------------------------------------------------------
// Child processes.

// The absolute path of `program` on PATH, or nullopt.
std::optional<std::string> FindOnPath(const std::string& program);

// A child process with its stdout and stderr captured (read while waiting). The destructor
// SIGKILLs a child that is still running and reaps it.
class Subprocess {
 public:
  // argv[0] is a path (see FindOnPath). Check started().
  explicit Subprocess(const std::vector<std::string>& argv);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void Signal(int signal_number);

  // Waits until stderr holds `needle` followed by a newline; returns that line.
  std::optional<std::string> WaitForStderrLine(std::string_view needle, Deadline deadline);
  // Waits for exit, reading output meanwhile; the exit status, or nullopt on timeout or a death
  // by signal (exited() tells which).
  std::optional<int> Wait(Deadline deadline);
  bool exited() const { return exited_; }

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  // Reads what the pipes hold, waiting up to timeout_ms for something.
  void Pump(int timeout_ms);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  bool exited_ = false;
};

struct CommandResult {
  std::optional<int> exit_code;  // nullopt: timed out (killed) or died by a signal
  std::string out;
  std::string err;
};
// Runs argv to completion (killing it at the deadline).
CommandResult RunCommand(const std::vector<std::string>& argv, Deadline deadline);

// TEST_TMPDIR (or /tmp) + "/" + name, written with `contents`.
std::string WriteTempFile(const std::string& name, std::string_view contents);
std::string ReadFile(const std::string& path);

// Deterministic pseudo-random bytes.
std::string RandomBytes(size_t n, uint64_t seed);

}  // namespace shoal::http_test

#endif  // SHOAL_TESTS_INTEGRATION_HTTP_HTTP_TEST_SUPPORT_H_
