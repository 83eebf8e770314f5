// UpgradeAttempt: one zero-downtime upgrade as the running (predecessor) process sees it. It
// launches the successor (server/upgrade/successor.h) with the listening sockets, then waits on
// the main EventLoop for the successor's ready line, its exit (the pipe closes without a ready
// line), or the ready deadline, and reports once through `done`:
//   ready:  which of the handed sockets the successor adopted (indices into `sockets`);
//   failed: why (the successor's exit status, or "not ready within ..."); the successor has then
//           been killed if it still ran, and reaped.
// The owner destroys the attempt after `done` (not inside it: post the destruction). Destroying
// an attempt that has not reported kills and reaps the successor.
//
// Threading: the main loop's thread only.
#ifndef SHOAL_SERVER_UPGRADE_UPGRADE_ATTEMPT_H_
#define SHOAL_SERVER_UPGRADE_UPGRADE_ATTEMPT_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "server/upgrade/successor.h"

namespace shoal::server::upgrade {

struct UpgradeOutcome {
  bool ready = false;
  std::vector<size_t> adopted;  // indices into the handed sockets
  std::string failure;
};

class UpgradeAttempt final : private core::IoHandler, private core::Timer {
 public:
  struct Launch {
    std::string binary;
    std::vector<std::string> argv;
    std::vector<NamedSocket> sockets;
    Lineage lineage;  // the successor's
    int64_t ready_timeout_ns = 0;
  };

  static absl::StatusOr<std::unique_ptr<UpgradeAttempt>> Start(
      core::EventLoop& loop, const Launch& launch, std::function<void(UpgradeOutcome)> done);
  ~UpgradeAttempt() override;

  pid_t successor_pid() const { return successor_.pid; }

 private:
  UpgradeAttempt(core::EventLoop& loop, LaunchedSuccessor successor,
                 std::function<void(UpgradeOutcome)> done);
  void HandleEvents(uint32_t events) override;
  void OnExpire() override;
  void Fail(std::string why);
  void Finish(UpgradeOutcome outcome);
  // Reaps the successor, killing it if it still runs after `grace_ns`; its exit status in words.
  std::string KillAndReap(int64_t grace_ns);

  core::EventLoop& loop_;
  LaunchedSuccessor successor_;
  std::function<void(UpgradeOutcome)> done_;
  std::string received_;
  bool registered_ = false;
  bool reaped_ = false;
  bool reported_ = false;
};

}  // namespace shoal::server::upgrade

#endif  // SHOAL_SERVER_UPGRADE_UPGRADE_ATTEMPT_H_
