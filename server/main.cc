// shoal: a multi-reactor TCP server. See README.md for the command line.
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "server/application.h"
#include "server/config.h"
#include "server/logging.h"
#include "server/version.h"

ABSL_FLAG(std::string, config, "", "YAML config file; without it shoal runs its built-in default");
ABSL_FLAG(bool, check_config, false, "validate the config and exit: 0 if valid, 1 with the errors");
ABSL_FLAG(bool, version, false, "print the version and exit");
ABSL_FLAG(std::string, log_level, "", "override logging.level: trace, debug, info, warn, error");

int main(int argc, char** argv) {
  using namespace shoal::server;
  // absl's --help lists only the flags of a file named like the program; list all of them.
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view) { return true; };
  usage.contains_helpshort_flags = [](absl::string_view) { return true; };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage("shoal [--config=FILE] [--check_config] [--log_level=LEVEL]");
  absl::ParseCommandLine(argc, argv);

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
  auto application = Application::Create(*config, path);
  if (!application.ok()) {
    std::cerr << "shoal: " << application.status().message() << "\n";
    return kExitRuntimeFailure;
  }
  return (*application)->Run();
}
