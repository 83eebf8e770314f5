// The --pid_file: the serving process's pid, one line. Written atomically (a temporary file in the
// same directory, then rename), so a reader sees the old pid or the new one, never a torn line.
// Any thread; no state.
#ifndef SHOAL_SERVER_UPGRADE_PID_FILE_H_
#define SHOAL_SERVER_UPGRADE_PID_FILE_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"

namespace shoal::server::upgrade {

absl::Status WritePidFile(const std::string& path, pid_t pid);
// Removes the file if it still names `pid` (a successor may have rewritten it).
void RemovePidFileIfOurs(const std::string& path, pid_t pid);

}  // namespace shoal::server::upgrade

#endif  // SHOAL_SERVER_UPGRADE_PID_FILE_H_
