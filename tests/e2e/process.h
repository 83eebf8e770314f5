// Test support: run the real shoal binary as a child process, read its stderr, signal it, and
// wait for its exit with a deadline. Blocking client helpers for the echo protocol.
#ifndef SHOAL_TESTS_E2E_PROCESS_H_
#define SHOAL_TESTS_E2E_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace shoal::testing {

// Path of //server:shoal in the test's runfiles.
std::string ShoalBinaryPath();
// Writes `contents` to a new file under TEST_TMPDIR and returns its path.
std::string WriteTempFile(const std::string& name, const std::string& contents);

class ChildProcess {
 public:
  ChildProcess(const std::string& binary, const std::vector<std::string>& args);
  ~ChildProcess();  // SIGKILLs a child that is still running

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }
  void Signal(int signal_number);
  // Waits up to timeout_ms for a complete stderr line containing `needle` at or after byte offset
  // `from` of stderr (so a test can wait for the next occurrence); returns the line.
  std::optional<std::string> WaitForStderrLine(const std::string& needle, int timeout_ms,
                                               size_t from = 0);
  // Waits up to timeout_ms for exit; returns the exit code, or nullopt on timeout / killed by signal.
  std::optional<int> WaitForExit(int timeout_ms);
  // All stderr read so far (WaitForExit reads the rest).
  const std::string& stderr_text() const { return stderr_; }

 private:
  void ReadAvailable(int timeout_ms);

  pid_t pid_ = -1;
  int stderr_fd_ = -1;
  std::string stderr_;
  bool exited_ = false;
};

// The port from a "listening: ... on ADDRESS:PORT ..." log line.
int PortFromListeningLine(const std::string& line);

// Blocking client socket helpers (all with deadlines; they fail the test on timeout).
int ConnectTo(int port);
std::string EncodeFrame(const std::string& payload);
bool WriteAll(int fd, const std::string& bytes);
// Reads exactly n bytes unless EOF/error/timeout comes first; returns what was read.
std::string ReadUpTo(int fd, size_t n, int timeout_ms);

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_E2E_PROCESS_H_
