#include "tests/support/upgradable_shoal.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/support/exposition.h"
#include "tests/support/http_client.h"

namespace shoal::testing {

namespace {

bool Running(pid_t pid) {
  int status = 0;
  pid_t done = waitpid(pid, &status, WNOHANG);
  if (done == pid) return false;
  return kill(pid, 0) == 0;
}

}  // namespace

UpgradableShoal::UpgradableShoal(const std::string& name, const std::string& config_yaml,
                                 std::vector<std::string> extra_flags) {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  binary_ = WriteTempFile(name + ".shoal", ReadFile(ShoalBinaryPath()));
  chmod(binary_.c_str(), 0755);
  config_path_ = WriteTempFile(name + ".yaml", config_yaml);
  pid_file_ = WriteTempFile(name + ".pid", "");
  std::filesystem::remove(pid_file_);
  std::vector<std::string> argv = {binary_, "--config=" + config_path_, "--pid_file=" + pid_file_};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  first_ = std::make_unique<Subprocess>(argv);
  ports_ = WaitForPorts(*first_);
  WaitFor([this] { return serving_pid().has_value(); }, seconds(10));
}

UpgradableShoal::~UpgradableShoal() { Stop(seconds(10)); }

std::optional<pid_t> UpgradableShoal::serving_pid() const {
  std::ifstream in(pid_file_);
  pid_t pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  return pid;
}

bool UpgradableShoal::ProcessGone(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return paren == std::string::npos || stat.substr(paren + 2, 1) == "Z";
}

std::optional<pid_t> UpgradableShoal::Upgrade(Deadline deadline, bool wait_for_old_exit) {
  std::optional<pid_t> old_pid = serving_pid();
  if (!old_pid) return std::nullopt;
  kill(*old_pid, SIGUSR2);
  std::optional<pid_t> new_pid;
  bool changed = WaitFor(
      [&] {
        new_pid = serving_pid();
        return new_pid && *new_pid != *old_pid;
      },
      deadline);
  if (!changed) return std::nullopt;
  successors_.push_back(*new_pid);
  if (wait_for_old_exit && !WaitFor([&] { return ProcessGone(*old_pid); }, deadline)) {
    return std::nullopt;
  }
  if (!WaitFor([&] { return Metric("shoal_generation").has_value(); }, deadline)) {
    return std::nullopt;
  }
  return new_pid;
}

bool UpgradableShoal::UpgradeFails(Deadline deadline) {
  std::optional<pid_t> pid = serving_pid();
  std::optional<double> failed_before = Metric("shoal_upgrades_total", {{"result", "failed"}});
  if (!pid || !failed_before) return false;
  kill(*pid, SIGUSR2);
  bool counted = WaitFor(
      [&] {
        std::optional<double> failed = Metric("shoal_upgrades_total", {{"result", "failed"}});
        return failed && *failed > *failed_before;
      },
      deadline);
  return counted && serving_pid() == pid;
}

void UpgradableShoal::WriteConfig(const std::string& config_yaml) {
  const std::string temporary = config_path_ + ".new";
  std::ofstream(temporary, std::ios::trunc) << config_yaml;
  std::filesystem::rename(temporary, config_path_);
}

void UpgradableShoal::ReplaceBinaryWithScript(const std::string& script) {
  const std::string temporary = binary_ + ".new";
  std::ofstream(temporary, std::ios::trunc) << script;
  chmod(temporary.c_str(), 0755);
  std::filesystem::rename(temporary, binary_);
}

void UpgradableShoal::RestoreBinary() {
  const std::string temporary = binary_ + ".new";
  std::filesystem::copy_file(ShoalBinaryPath(), temporary,
                             std::filesystem::copy_options::overwrite_existing);
  chmod(temporary.c_str(), 0755);
  std::filesystem::rename(temporary, binary_);
}

std::optional<double> UpgradableShoal::Metric(const std::string& name,
                                              const std::map<std::string, std::string>& labels) {
  auto response = HttpGet(ports_.admin, "/metrics", milliseconds(2000));
  if (!response || response->status != 200) return std::nullopt;
  return ParseExposition(response->body).Value(name, labels);
}

bool UpgradableShoal::Stop(Deadline deadline) {
  if (!first_) return true;
  if (std::optional<pid_t> pid = serving_pid()) kill(*pid, SIGTERM);
  bool all_exited = WaitFor(
      [&] {
        (void)first_->Wait(milliseconds(1));
        return first_->exited() &&
               std::none_of(successors_.begin(), successors_.end(), Running);
      },
      deadline);
  for (pid_t pid : successors_) {
    if (Running(pid)) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  successors_.clear();
  first_.reset();
  return all_exited;
}

std::string UpgradableShoal::Log() {
  if (!first_) return {};
  (void)first_->Wait(milliseconds(1));
  return first_->err();
}

}  // namespace shoal::testing
