#include "tools/loadgen/server_cpu.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/socket.h"
#include "metrics/process_collector.h"

namespace shoal::loadgen {

namespace {

constexpr std::string_view kCpuMetric = "process_cpu_seconds_total";
constexpr int kTimeoutSeconds = 5;

absl::StatusOr<double> ReadProcCpuSeconds(pid_t pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/stat");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  auto stat = metrics::ParseProcStat(text.str());
  if (!stat) return absl::DataLossError(absl::StrCat(path, " is malformed"));
  return static_cast<double>(stat->utime_ticks + stat->stime_ticks) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

// GET `url` (http://HOST:PORT/PATH) over a blocking socket; the response body.
absl::StatusOr<std::string> HttpGet(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("'", url, "' is not http://HOST:PORT/PATH"));
  }
  const size_t slash = url.find('/', kScheme.size());
  const std::string authority = url.substr(kScheme.size(), slash - kScheme.size());
  const std::string path = slash == std::string::npos ? "/" : url.substr(slash);
  auto address = core::SocketAddress::Parse(authority);
  if (!address.ok()) return address.status();
  core::ScopedFd fd(socket(address->sockaddr_ptr()->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  timeval timeout{kTimeoutSeconds, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  if (connect(fd.get(), address->sockaddr_ptr(), address->length()) != 0) {
    return absl::UnavailableError(absl::StrCat("connect ", authority, ": ", std::strerror(errno)));
  }
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", authority,
                                           "\r\nConnection: close\r\n\r\n");
  if (send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return absl::UnavailableError(absl::StrCat("send to ", authority, " failed"));
  }
  std::string response;
  char buffer[16384];
  for (;;) {
    ssize_t n = recv(fd.get(), buffer, sizeof(buffer), 0);
    if (n > 0) {
      response.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::UnavailableError(
          absl::StrCat("read from ", authority, ": ", std::strerror(errno)));
    }
    break;
  }
  const size_t body = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || body == std::string::npos ||
      response.compare(9, 3, "200") != 0) {
    return absl::UnavailableError(absl::StrCat(url, " did not answer 200"));
  }
  return response.substr(body + 4);
}

}  // namespace

absl::StatusOr<double> ParseProcessCpuSeconds(std::string_view exposition) {
  size_t at = 0;
  while (at < exposition.size()) {
    size_t end = exposition.find('\n', at);
    if (end == std::string_view::npos) end = exposition.size();
    std::string_view line = exposition.substr(at, end - at);
    at = end + 1;
    if (line.rfind(kCpuMetric, 0) != 0) continue;
    std::string_view rest = line.substr(kCpuMetric.size());
    if (!rest.empty() && rest.front() == '{') {
      const size_t close = rest.find('}');
      if (close == std::string_view::npos) continue;
      rest = rest.substr(close + 1);
    }
    if (rest.empty() || rest.front() != ' ') continue;  // another metric with this prefix
    rest.remove_prefix(1);
    rest = rest.substr(0, rest.find(' '));  // a timestamp may follow
    double value = 0;
    if (absl::SimpleAtod(absl::string_view(rest.data(), rest.size()), &value)) return value;
  }
  return absl::NotFoundError(absl::StrCat("no ", std::string(kCpuMetric), " sample"));
}

CpuSampler ProcCpuSampler(pid_t pid) {
  return [pid] { return ReadProcCpuSeconds(pid); };
}

CpuSampler MetricsCpuSampler(std::string url) {
  return [url = std::move(url)]() -> absl::StatusOr<double> {
    auto body = HttpGet(url);
    if (!body.ok()) return body.status();
    return ParseProcessCpuSeconds(*body);
  };
}

}  // namespace shoal::loadgen
