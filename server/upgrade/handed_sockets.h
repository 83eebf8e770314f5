// How listening sockets travel from one shoal process to the next: by descriptor inheritance,
// described in the environment by name (a listener's name, or "admin"), one entry per socket in
// order, so a reuseport listener appears once per worker:
//   SHOAL_UPGRADE_SOCKETS=web=5,web=6,admin=7
//   SHOAL_UPGRADE_READY_FD=8            the successor writes "ready FD,FD,...\n" there once it
//                                       serves: the descriptors it adopted
//   SHOAL_LINEAGE=3,2,1                 generation, upgrades succeeded, upgrades failed so far
// InheritedSockets owns what a process received (from a predecessor or from systemd) until the
// server has adopted its copies. Plain values and free functions; main thread.
#ifndef SHOAL_SERVER_UPGRADE_HANDED_SOCKETS_H_
#define SHOAL_SERVER_UPGRADE_HANDED_SOCKETS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/socket.h"

namespace shoal::server::upgrade {

inline constexpr char kSocketsEnv[] = "SHOAL_UPGRADE_SOCKETS";
inline constexpr char kReadyFdEnv[] = "SHOAL_UPGRADE_READY_FD";
inline constexpr char kLineageEnv[] = "SHOAL_LINEAGE";
inline constexpr char kAdminSocketName[] = "admin";

struct NamedSocket {
  std::string name;
  int fd = -1;
};

struct Lineage {
  int64_t generation = 1;
  int64_t upgrades_succeeded = 0;
  int64_t upgrades_failed = 0;
};

// The value of environment variable `name` ("" when unset), removed from the environment.
std::string TakeEnvironmentVariable(const char* name);

std::string EncodeSockets(const std::vector<NamedSocket>& sockets);
absl::StatusOr<std::vector<NamedSocket>> DecodeSockets(std::string_view text);
std::string EncodeLineage(const Lineage& lineage);
absl::StatusOr<Lineage> DecodeLineage(std::string_view text);

// "ready 5,6,7\n" and back (nullopt when `line` is not a complete ready line).
std::string EncodeReady(const std::vector<int>& adopted_fds);
std::optional<std::vector<int>> DecodeReady(std::string_view line);

// Sockets received at start, owned (closed on destruction) and taken by name.
class InheritedSockets {
 public:
  enum class Source { kNone, kPredecessor, kSystemd };

  InheritedSockets() = default;
  // Takes ownership of every descriptor in `sockets` and marks it close-on-exec.
  InheritedSockets(Source source, std::vector<NamedSocket> sockets);

  Source source() const { return source_; }
  bool empty() const { return sockets_.empty(); }
  // The descriptors named `name`, in order (still owned here); they count as claimed.
  std::vector<int> Claim(std::string_view name);
  // Names of sockets nobody claimed, without repeats.
  std::vector<std::string> Unclaimed() const;

 private:
  struct Entry {
    std::string name;
    core::ScopedFd fd;
    bool claimed = false;
  };
  Source source_ = Source::kNone;
  std::vector<Entry> sockets_;
};

}  // namespace shoal::server::upgrade

#endif  // SHOAL_SERVER_UPGRADE_HANDED_SOCKETS_H_
