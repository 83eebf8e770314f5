#include "server/upgrade/pid_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/socket.h"

namespace shoal::server::upgrade {

absl::Status WritePidFile(const std::string& path, pid_t pid) {
  const std::string temporary = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << pid << "\n";
    out.flush();
    if (!out) return core::ErrnoStatus(errno, "write " + temporary);
  }
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(temporary.c_str());
    return core::ErrnoStatus(err, "rename to " + path);
  }
  return absl::OkStatus();
}

void RemovePidFileIfOurs(const std::string& path, pid_t pid) {
  std::ifstream in(path);
  pid_t written = 0;
  if (in >> written && written == pid) unlink(path.c_str());
}

}  // namespace shoal::server::upgrade
