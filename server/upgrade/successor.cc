#include "server/upgrade/successor.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"

extern char** environ;

namespace shoal::server::upgrade {

namespace {

bool IsHandoffVariable(std::string_view entry) {
  for (std::string_view name : {std::string_view(kSocketsEnv), std::string_view(kReadyFdEnv),
                                std::string_view(kLineageEnv), std::string_view("LISTEN_PID"),
                                std::string_view("LISTEN_FDS"),
                                std::string_view("LISTEN_FDNAMES")}) {
    if (entry.size() > name.size() && entry.substr(0, name.size()) == name &&
        entry[name.size()] == '=') {
      return true;
    }
  }
  return false;
}

// A duplicate without close-on-exec, closed when this goes out of scope (after the spawn).
absl::StatusOr<core::ScopedFd> InheritableCopy(int fd) {
  core::ScopedFd copy(fcntl(fd, F_DUPFD, 3));
  if (!copy.valid()) return core::ErrnoStatus(errno, "dup for the successor");
  return copy;
}


}  // namespace

absl::StatusOr<LaunchedSuccessor> LaunchSuccessor(const std::string& binary,
                                                  const std::vector<std::string>& argv,
                                                  const std::vector<NamedSocket>& sockets,
                                                  const Lineage& lineage) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) return core::ErrnoStatus(errno, "pipe2");
  LaunchedSuccessor launched;
  launched.ready_fd.reset(pipe_fds[0]);
  core::ScopedFd write_end(pipe_fds[1]);
  if (fcntl(write_end.get(), F_SETFL, 0) != 0) return core::ErrnoStatus(errno, "fcntl");

  std::vector<core::ScopedFd> copies;
  std::vector<NamedSocket> described;
  for (const NamedSocket& socket : sockets) {
    auto copy = InheritableCopy(socket.fd);
    if (!copy.ok()) return copy.status();
    launched.child_fds.push_back(copy->get());
    described.push_back(NamedSocket{socket.name, copy->get()});
    copies.push_back(std::move(*copy));
  }
  auto ready_copy = InheritableCopy(write_end.get());
  if (!ready_copy.ok()) return ready_copy.status();

  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!IsHandoffVariable(*entry)) environment.emplace_back(*entry);
  }
  environment.push_back(std::string(kSocketsEnv) + "=" + EncodeSockets(described));
  environment.push_back(std::string(kReadyFdEnv) + "=" + std::to_string(ready_copy->get()));
  environment.push_back(std::string(kLineageEnv) + "=" + EncodeLineage(lineage));

  std::vector<char*> argv_pointers;
  for (const std::string& arg : argv) argv_pointers.push_back(const_cast<char*>(arg.c_str()));
  argv_pointers.push_back(nullptr);
  std::vector<char*> env_pointers;
  for (std::string& entry : environment) env_pointers.push_back(entry.data());
  env_pointers.push_back(nullptr);

  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults;
  sigfillset(&defaults);
  sigdelset(&defaults, SIGKILL);
  sigdelset(&defaults, SIGSTOP);
  posix_spawnattr_setsigmask(&attributes, &empty);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  int err = posix_spawn(&launched.pid, binary.c_str(), nullptr, &attributes,
                        argv_pointers.data(), env_pointers.data());
  posix_spawnattr_destroy(&attributes);
  if (err != 0) return core::ErrnoStatus(err, "start " + binary);
  return launched;
}

absl::StatusOr<Handoff> TakeHandoff() {
  Handoff handoff;
  const std::string sockets_text = TakeEnvironmentVariable(kSocketsEnv);
  const std::string ready_text = TakeEnvironmentVariable(kReadyFdEnv);
  const std::string lineage_text = TakeEnvironmentVariable(kLineageEnv);
  if (ready_text.empty()) return handoff;
  int ready_fd = -1;
  if (!absl::SimpleAtoi(ready_text, &ready_fd) || ready_fd < 3) {
    return absl::InvalidArgumentError(std::string(kReadyFdEnv) + ": bad value '" + ready_text +
                                      "'");
  }
  handoff.ready_fd.reset(ready_fd);
  fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
  auto sockets = DecodeSockets(sockets_text);
  if (!sockets.ok()) return sockets.status();
  handoff.sockets = std::move(*sockets);
  auto lineage = DecodeLineage(lineage_text);
  if (!lineage.ok()) return lineage.status();
  handoff.lineage = *lineage;
  return handoff;
}

absl::Status ReportReady(core::ScopedFd ready_fd, const std::vector<int>& adopted_fds) {
  const std::string line = EncodeReady(adopted_fds);
  ssize_t written;
  do {
    written = write(ready_fd.get(), line.data(), line.size());
  } while (written < 0 && errno == EINTR);
  if (written != static_cast<ssize_t>(line.size())) {
    return core::ErrnoStatus(written < 0 ? errno : EIO, "write the ready line");
  }
  return absl::OkStatus();
}

}  // namespace shoal::server::upgrade
