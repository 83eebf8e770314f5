#include "server/upgrade/socket_activation.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace shoal::server::upgrade {

namespace {

constexpr int kFirstFd = 3;


}  // namespace

absl::StatusOr<std::vector<NamedSocket>> TakeSystemdSockets() {
  const std::string pid_text = TakeEnvironmentVariable("LISTEN_PID");
  const std::string count_text = TakeEnvironmentVariable("LISTEN_FDS");
  const std::string names_text = TakeEnvironmentVariable("LISTEN_FDNAMES");
  std::vector<NamedSocket> sockets;
  if (count_text.empty()) return sockets;
  pid_t pid = 0;
  if (!absl::SimpleAtoi(pid_text, &pid)) {
    return absl::InvalidArgumentError("socket activation: LISTEN_PID='" + pid_text +
                                      "' is not a pid");
  }
  if (pid != getpid()) return sockets;
  int count = 0;
  if (!absl::SimpleAtoi(count_text, &count) || count < 0) {
    return absl::InvalidArgumentError("socket activation: LISTEN_FDS='" + count_text +
                                      "' is not a count");
  }
  std::vector<std::string> names = absl::StrSplit(names_text, ':', absl::SkipEmpty());
  if (static_cast<int>(names.size()) != count) {
    return absl::InvalidArgumentError(
        "socket activation: LISTEN_FDS=" + count_text + " but LISTEN_FDNAMES='" + names_text +
        "' names " + std::to_string(names.size()) +
        "; give each socket the name of its listener (or admin) with FileDescriptorName=");
  }
  for (int i = 0; i < count; ++i) {
    sockets.push_back(NamedSocket{names[static_cast<size_t>(i)], kFirstFd + i});
  }
  return sockets;
}

}  // namespace shoal::server::upgrade
