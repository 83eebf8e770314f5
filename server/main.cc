// shoal: a multi-reactor TCP server. See README.md for the command line.
#include <limits.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/time/time.h"
#include "server/application.h"
#include "server/config.h"
#include "server/logging.h"
#include "server/upgrade/socket_activation.h"
#include "server/upgrade/successor.h"
#include "server/version.h"

ABSL_FLAG(std::string, config, "", "YAML config file; without it shoal runs its built-in default");
ABSL_FLAG(bool, check_config, false, "validate the config and exit: 0 if valid, 1 with the errors");
ABSL_FLAG(bool, version, false, "print the version and exit");
ABSL_FLAG(std::string, log_level, "", "override logging.level: trace, debug, info, warn, error");
ABSL_FLAG(std::string, pid_file, "",
          "write the serving process's pid to this file (rewritten by a successor after SIGUSR2)");
constexpr char kDefaultUpgradeReadyTimeout[] = "30s";
ABSL_FLAG(std::string, upgrade_ready_timeout, kDefaultUpgradeReadyTimeout,
          "SIGUSR2: how long the successor may take to serve before it is killed and the upgrade "
          "counted as failed");

ABSL_FLAG(bool, upgrade_tcp_migrate_req, true,
          "SIGUSR2 to fewer workers: set net.ipv4.tcp_migrate_req (network-namespace wide) where "
          "permitted, so closed sockets' queued connections move to the remaining ones; without "
          "it the predecessor accepts those queues before closing");

namespace {

// The path this binary was started from, so that an upgrade starts whatever binary is there now.
std::string StartedFrom(const char* argv0) {
  std::string path = argv0;
  if (!path.empty() && path[0] == '/') return path;
  char buffer[PATH_MAX];
  if (path.find('/') != std::string::npos && getcwd(buffer, sizeof(buffer)) != nullptr) {
    return std::string(buffer) + "/" + path;
  }
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : path;
}

// Sockets and lineage from a predecessor (SIGUSR2), or else from systemd socket activation.
absl::Status TakeStartSockets(shoal::server::StartContext& start) {
  using namespace shoal::server::upgrade;
  auto handoff = TakeHandoff();
  auto activated = TakeSystemdSockets();
  if (!handoff.ok()) return handoff.status();
  if (!activated.ok()) return activated.status();
  if (handoff->ready_fd.valid()) {
    start.inherited =
        InheritedSockets(InheritedSockets::Source::kPredecessor, std::move(handoff->sockets));
    start.ready_fd = std::move(handoff->ready_fd);
    start.lineage = handoff->lineage;
  } else if (!activated->empty()) {
    start.inherited = InheritedSockets(InheritedSockets::Source::kSystemd, std::move(*activated));
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace shoal::server;
  // absl's --help lists only the flags of a file named like the program; list all of them.
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view) { return true; };
  usage.contains_helpshort_flags = [](absl::string_view) { return true; };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "shoal [--config=FILE] [--check_config] [--log_level=LEVEL] [--pid_file=FILE]");
  StartContext start;
  start.binary = StartedFrom(argv[0]);
  start.argv.assign(argv, argv + argc);
  absl::ParseCommandLine(argc, argv);
  start.pid_file = absl::GetFlag(FLAGS_pid_file);
  const std::string ready_timeout = absl::GetFlag(FLAGS_upgrade_ready_timeout);
  if (!absl::ParseDuration(ready_timeout, &start.upgrade_ready_timeout) ||
      start.upgrade_ready_timeout <= absl::ZeroDuration()) {
    std::cerr << "shoal: --upgrade_ready_timeout=" << ready_timeout
              << ": not a positive duration (e.g. 30s)\n";
    return kExitConfigError;
  }
  start.set_tcp_migrate_req = absl::GetFlag(FLAGS_upgrade_tcp_migrate_req);
  if (auto status = TakeStartSockets(start); !status.ok()) {
    std::cerr << "shoal: " << status.message() << "\n";
    return kExitConfigError;
  }

  if (absl::GetFlag(FLAGS_version)) {
    std::cout << "shoal " << kVersion << "\n";
    return kExitOk;
  }

  const std::string path = absl::GetFlag(FLAGS_config);
  absl::StatusOr<Config> config = path.empty() ? Config::Default() : LoadConfigFile(path);
  if (config.ok() && !absl::GetFlag(FLAGS_log_level).empty()) {
    config->logging.level = absl::GetFlag(FLAGS_log_level);
    if (auto status = ValidateConfig(*config); !status.ok()) config = status;
  }
  if (!config.ok()) {
    std::cerr << "shoal: invalid config:\n" << config.status().message() << "\n";
    return kExitConfigError;
  }
  if (absl::GetFlag(FLAGS_check_config)) {
    std::cout << (path.empty() ? std::string("built-in default") : path) << ": OK\n";
    return kExitOk;
  }

  if (auto status = ConfigureLogging(config->logging.level, config->logging.format);
      !status.ok()) {
    std::cerr << "shoal: " << status.message() << "\n";
    return kExitConfigError;
  }
  auto application = Application::Create(*config, path, std::move(start));
  if (!application.ok()) {
    std::cerr << "shoal: " << application.status().message() << "\n";
    return kExitRuntimeFailure;
  }
  return (*application)->Run();
}
