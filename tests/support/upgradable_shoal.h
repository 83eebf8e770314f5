// UpgradableShoal: the real shoal binary run the way an operator upgrades it: a copy in the test's
// temp directory (so the test can replace it, as a package upgrade does), started with --config and
// --pid_file, upgraded with SIGUSR2 to whichever process the pid file names. This test process
// becomes a child subreaper, so successors that outlive their parent are reparented here and
// reaped by Stop (not left as zombies).
//
// Threading: test thread. One UpgradableShoal per test (the subreaper flag stays set).
#ifndef SHOAL_TESTS_SUPPORT_UPGRADABLE_SHOAL_H_
#define SHOAL_TESTS_SUPPORT_UPGRADABLE_SHOAL_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/deadline.h"
#include "tests/support/shoal_process.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {

class UpgradableShoal {
 public:
  // `name` keeps the files of several instances apart. `extra_flags` go after --config/--pid_file.
  UpgradableShoal(const std::string& name, const std::string& config_yaml,
                  std::vector<std::string> extra_flags = {});
  ~UpgradableShoal();

  // Whether the first process reported its ports.
  bool started() const { return ports_.listener > 0 && ports_.admin > 0; }
  const ShoalPorts& ports() const { return ports_; }
  // The pid the pid file names (nullopt when absent or unreadable).
  std::optional<pid_t> serving_pid() const;

  // SIGUSR2 to the serving process; waits for the pid file to name another process, for that
  // process's /metrics to answer and (unless told not to) for the old process to exit, so that
  // the admin port then reaches the new one only. Returns the new pid, or nullopt by the deadline.
  std::optional<pid_t> Upgrade(Deadline deadline, bool wait_for_old_exit = true);
  // SIGUSR2 to the serving process, expecting the upgrade to fail: waits until
  // shoal_upgrades_total{result="failed"} has grown and checks the pid file still names it.
  bool UpgradeFails(Deadline deadline);

  // What the next upgrade starts: a new config, or a different program at the binary's path.
  void WriteConfig(const std::string& config_yaml);
  void ReplaceBinaryWithScript(const std::string& script);
  void RestoreBinary();

  // One sample of the serving process's /metrics.
  std::optional<double> Metric(const std::string& name,
                               const std::map<std::string, std::string>& labels = {});

  // SIGTERM to the serving process; waits until every process of the lineage has exited. Returns
  // false if one is still running at the deadline (it is then killed).
  bool Stop(Deadline deadline);
  // Whether `pid` has exited (gone, or a zombie not yet reaped).
  static bool ProcessGone(pid_t pid);
  // stderr of every generation (they share the first process's pipe), as read so far.
  std::string Log();

 private:
  std::string binary_;
  std::string config_path_;
  std::string pid_file_;
  std::unique_ptr<Subprocess> first_;
  ShoalPorts ports_;
  std::vector<pid_t> successors_;
};

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_UPGRADABLE_SHOAL_H_
