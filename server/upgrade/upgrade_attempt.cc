#include "server/upgrade/upgrade_attempt.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace shoal::server::upgrade {

namespace {

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by ") + strsignal(WTERMSIG(status));
  return "stopped";
}

constexpr int64_t kExitGraceNs = 1'000'000'000;

}  // namespace

absl::StatusOr<std::unique_ptr<UpgradeAttempt>> UpgradeAttempt::Start(
    core::EventLoop& loop, const Launch& launch, std::function<void(UpgradeOutcome)> done) {
  auto successor = LaunchSuccessor(launch.binary, launch.argv, launch.sockets, launch.lineage);
  if (!successor.ok()) return successor.status();
  std::unique_ptr<UpgradeAttempt> attempt(
      new UpgradeAttempt(loop, std::move(*successor), std::move(done)));
  if (auto status = loop.Add(attempt->successor_.ready_fd.get(), EPOLLIN, attempt.get());
      !status.ok()) {
    return status;
  }
  attempt->registered_ = true;
  loop.timers().Schedule(attempt.get(), core::DeadlineAfter(loop.now_ns(), launch.ready_timeout_ns));
  return attempt;
}

UpgradeAttempt::UpgradeAttempt(core::EventLoop& loop, LaunchedSuccessor successor,
                               std::function<void(UpgradeOutcome)> done)
    : loop_(loop), successor_(std::move(successor)), done_(std::move(done)) {}

UpgradeAttempt::~UpgradeAttempt() {
  loop_.timers().Cancel(this);
  if (registered_) loop_.Remove(successor_.ready_fd.get());
  if (!reported_) KillAndReap(0);
}

void UpgradeAttempt::HandleEvents(uint32_t) {
  if (reported_) return;
  char buffer[256];
  for (;;) {
    ssize_t n = read(successor_.ready_fd.get(), buffer, sizeof(buffer));
    if (n > 0) {
      received_.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    break;  // EOF or an error: the successor closed the pipe
  }
  std::optional<std::vector<int>> adopted = DecodeReady(received_);
  if (!adopted) {
    std::string status = KillAndReap(kExitGraceNs);
    Fail("the successor (pid " + std::to_string(successor_.pid) + ") " + status +
         " before it was ready");
    return;
  }
  UpgradeOutcome outcome;
  outcome.ready = true;
  for (int fd : *adopted) {
    for (size_t i = 0; i < successor_.child_fds.size(); ++i) {
      if (successor_.child_fds[i] == fd) outcome.adopted.push_back(i);
    }
  }
  Finish(std::move(outcome));
}

void UpgradeAttempt::OnExpire() {
  if (reported_) return;
  KillAndReap(0);
  Fail("the successor (pid " + std::to_string(successor_.pid) +
       ") was not ready by the deadline and was killed");
}

void UpgradeAttempt::Fail(std::string why) {
  UpgradeOutcome outcome;
  outcome.failure = std::move(why);
  Finish(std::move(outcome));
}

void UpgradeAttempt::Finish(UpgradeOutcome outcome) {
  reported_ = true;
  loop_.timers().Cancel(this);
  if (registered_) {
    loop_.Remove(successor_.ready_fd.get());
    registered_ = false;
  }
  done_(std::move(outcome));
}

std::string UpgradeAttempt::KillAndReap(int64_t grace_ns) {
  if (reaped_ || successor_.pid <= 0) return "ended";
  reaped_ = true;
  int status = 0;
  // A successor that closed the pipe is exiting: give it a moment to report its own status.
  const int64_t give_up = core::MonotonicNowNs() + grace_ns;
  while (waitpid(successor_.pid, &status, WNOHANG) == 0) {
    if (core::MonotonicNowNs() >= give_up) {
      kill(successor_.pid, SIGKILL);
      if (waitpid(successor_.pid, &status, 0) < 0) return "could not be reaped";
      break;
    }
    usleep(1000);
  }
  return DescribeStatus(status);
}

}  // namespace shoal::server::upgrade
