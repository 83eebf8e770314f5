// The two ends of an upgrade's hand-over between processes.
//
// Predecessor: LaunchSuccessor starts `binary` with `argv` and the current environment, with each
// handed socket and the write end of a readiness pipe inherited (close-on-exec cleared on
// duplicates only, so nothing else leaks into the child) and described in the environment
// (server/upgrade/handed_sockets.h); the child starts with default signal dispositions and an
// empty signal mask.
//
// Successor: TakeHandoff reads (and removes) that description at start; ReportReady writes the
// ready line and closes the pipe.
//
// Main thread only (LaunchSuccessor duplicates descriptors without close-on-exec for the spawn).
#ifndef SHOAL_SERVER_UPGRADE_SUCCESSOR_H_
#define SHOAL_SERVER_UPGRADE_SUCCESSOR_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/socket.h"
#include "server/upgrade/handed_sockets.h"

namespace shoal::server::upgrade {

struct LaunchedSuccessor {
  pid_t pid = -1;
  core::ScopedFd ready_fd;  // the pipe's read end, non-blocking
  // child_fds[i] is the descriptor number sockets[i] has in the child.
  std::vector<int> child_fds;
};

absl::StatusOr<LaunchedSuccessor> LaunchSuccessor(const std::string& binary,
                                                  const std::vector<std::string>& argv,
                                                  const std::vector<NamedSocket>& sockets,
                                                  const Lineage& lineage);

struct Handoff {
  std::vector<NamedSocket> sockets;
  core::ScopedFd ready_fd;  // invalid when this process was not started by a predecessor
  Lineage lineage;
};

// InvalidArgument when the variables are present but malformed.
absl::StatusOr<Handoff> TakeHandoff();

// Writes the ready line (the inherited descriptors this process adopted) and closes `ready_fd`.
absl::Status ReportReady(core::ScopedFd ready_fd, const std::vector<int>& adopted_fds);

}  // namespace shoal::server::upgrade

#endif  // SHOAL_SERVER_UPGRADE_SUCCESSOR_H_
