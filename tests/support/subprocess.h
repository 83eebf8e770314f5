// Child processes for tests: start the shoal binary (or any binary), read its stdout and stderr
// while waiting, wait for a log line, signal it, wait for its exit status; and the files and paths
// such tests need (runfiles path of shoal, temp files, the port from a "listening:" line).
//
// Rule: every wait has a deadline; output is read while waiting, so a chatty child cannot block on
// a full pipe while the test waits. Threading: one Subprocess per thread.
#ifndef SHOAL_TESTS_SUPPORT_SUBPROCESS_H_
#define SHOAL_TESTS_SUPPORT_SUBPROCESS_H_

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/deadline.h"

namespace shoal::testing {

// A child process with stdout and stderr captured and stdin reading `stdin_text` (empty: an
// empty input). The destructor SIGKILLs a child that is still running and reaps it.
class Subprocess {
 public:
  // argv[0] is a path (see FindOnPath, ShoalBinaryPath). Check started().
  explicit Subprocess(const std::vector<std::string>& argv, std::string_view stdin_text = {});
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void Signal(int signal_number);

  // Waits until stderr, from byte offset `from` on, holds `needle` followed by a newline (so a
  // test can wait for the next occurrence); returns that whole line. nullopt at the deadline or
  // when the child exited without printing it.
  std::optional<std::string> WaitForStderrLine(std::string_view needle, Deadline deadline,
                                               size_t from = 0);
  // Waits for exit, reading output meanwhile; the exit status, or nullopt on timeout or a death
  // by signal (exited() tells which).
  std::optional<int> Wait(Deadline deadline);
  bool exited() const { return exited_; }

  // Output read so far (Wait reads the rest).
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  // Reads what the pipes hold, waiting up to timeout_ms for something.
  void Pump(int timeout_ms);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  bool exited_ = false;
};

struct CommandResult {
  std::optional<int> exit_code;  // nullopt: timed out (killed) or died by a signal
  std::string out;
  std::string err;
};
// Runs argv to completion (killing it at the deadline).
CommandResult RunCommand(const std::vector<std::string>& argv, Deadline deadline,
                         std::string_view stdin_text = {});

// The absolute path of `program` on PATH, or nullopt.
std::optional<std::string> FindOnPath(const std::string& program);
// Path of //server:shoal in the test's runfiles.
std::string ShoalBinaryPath();
// The port from a "listening: ... on ADDRESS:PORT ..." log line; -1 if there is none.
int PortFromListeningLine(std::string_view line);

// TEST_TMPDIR (or /tmp) + "/" + name, written with `contents`.
std::string WriteTempFile(const std::string& name, std::string_view contents);
std::string ReadFile(const std::string& path);

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_SUBPROCESS_H_
