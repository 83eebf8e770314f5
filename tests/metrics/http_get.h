// Test support: a minimal blocking HTTP/1.1 client for loopback (one request per connection,
// "Connection: close"), and a way to run a tool (promtool) as a child process.
#ifndef SHOAL_TESTS_METRICS_HTTP_GET_H_
#define SHOAL_TESTS_METRICS_HTTP_GET_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace shoal::testing {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// Sends `method` `target` to 127.0.0.1:`port` and reads the whole response (until the server
// closes, then the body cut to Content-Length). nullopt on a connect/read failure, a timeout, or
// a malformed response.
std::optional<HttpResult> HttpRequest(int port, const std::string& method,
                                      const std::string& target, int timeout_ms = 10000);
inline std::optional<HttpResult> HttpGet(int port, const std::string& target,
                                         int timeout_ms = 10000) {
  return HttpRequest(port, "GET", target, timeout_ms);
}

// The full path of executable `name` found in $PATH, or "" if none.
std::string FindExecutable(const std::string& name);

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal or not run
  std::string output;  // stdout and stderr, interleaved
};
// Runs `argv` (argv[0] a path) with `stdin_text` on its standard input; waits at most
// `timeout_ms`, then kills it (exit_code -1).
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& stdin_text,
                         int timeout_ms = 60000);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
int PickFreePort();

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_METRICS_HTTP_GET_H_
