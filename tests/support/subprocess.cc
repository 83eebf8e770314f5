#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace shoal::testing {

namespace {

std::string TempDir() {
  const char* tmpdir = std::getenv("TEST_TMPDIR");
  return tmpdir != nullptr ? tmpdir : "/tmp";
}

// A descriptor reading `text`: a temp file unlinked at once (no pipe-buffer deadlock between
// writing input and reading output).
int OpenInput(std::string_view text) {
  static std::atomic<int> counter{0};
  std::string path = TempDir() + "/subprocess_stdin." + std::to_string(getpid()) + "." +
                     std::to_string(counter.fetch_add(1));
  {
    std::ofstream input(path, std::ios::binary | std::ios::trunc);
    input.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  unlink(path.c_str());
  return fd;
}

}  // namespace

Subprocess::Subprocess(const std::vector<std::string>& argv, std::string_view stdin_text) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return;
  }
  // Everything the child needs is prepared before fork(): it only dup2()s and exec()s.
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  int input = OpenInput(stdin_text);
  pid_ = fork();
  if (pid_ == 0) {
    if (input >= 0) dup2(input, STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  if (input >= 0) close(input);
  close(out_pipe[1]);
  close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  fcntl(out_fd_, F_SETFL, O_NONBLOCK);
  fcntl(err_fd_, F_SETFL, O_NONBLOCK);
  if (pid_ < 0) exited_ = true;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

void Subprocess::Signal(int signal_number) {
  if (pid_ > 0 && !exited_) kill(pid_, signal_number);
}

void Subprocess::Pump(int timeout_ms) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (poll(fds, 2, timeout_ms) <= 0) return;
  char buffer[16384];
  for (int i = 0; i < 2; ++i) {
    if (fds[i].revents == 0) continue;
    std::string& sink = i == 0 ? out_ : err_;
    for (;;) {
      ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n <= 0) break;
      sink.append(buffer, static_cast<size_t>(n));
    }
  }
}

std::optional<std::string> Subprocess::WaitForStderrLine(std::string_view needle,
                                                         Deadline deadline, size_t from) {
  for (;;) {
    size_t found = err_.find(needle, from);
    if (found != std::string::npos) {
      size_t line_end = err_.find('\n', found);
      if (line_end != std::string::npos) {
        size_t line_start = err_.rfind('\n', found);
        line_start = line_start == std::string::npos ? 0 : line_start + 1;
        return err_.substr(line_start, line_end - line_start);
      }
    }
    if (deadline.expired() || exited_) return std::nullopt;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      Pump(0);
      continue;
    }
    Pump(std::min(deadline.remaining_ms(), 50));
  }
}

std::optional<int> Subprocess::Wait(Deadline deadline) {
  if (pid_ <= 0) return std::nullopt;
  for (;;) {
    int status = 0;
    pid_t done = exited_ ? -1 : waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exited_ = true;
      // Drain what the pipes still hold (the child's descendants may keep them open: bounded).
      for (int i = 0; i < 20; ++i) Pump(i == 0 ? 0 : 5);
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return std::nullopt;
    }
    if (exited_ || deadline.expired()) return std::nullopt;
    Pump(std::min(deadline.remaining_ms(), 20));
  }
}

CommandResult RunCommand(const std::vector<std::string>& argv, Deadline deadline,
                         std::string_view stdin_text) {
  Subprocess process(argv, stdin_text);
  CommandResult result;
  result.exit_code = process.Wait(deadline);
  result.out = process.out();
  result.err = process.err();
  if (!process.exited()) result.err += "\n[killed at the deadline]";
  return result;
}

std::optional<std::string> FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

std::string ShoalBinaryPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  std::string base = srcdir != nullptr ? srcdir : ".";
  return base + "/shoal/server/shoal";
}

int PortFromListeningLine(std::string_view line) {
  size_t on = line.find(" on ");
  if (on == std::string_view::npos) return -1;
  size_t space = line.find(' ', on + 4);
  std::string address(line.substr(on + 4, space - on - 4));
  size_t colon = address.rfind(':');
  return colon == std::string::npos ? -1 : std::atoi(address.c_str() + colon + 1);
}

std::string WriteTempFile(const std::string& name, std::string_view contents) {
  std::string path = TempDir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  return path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace shoal::testing
