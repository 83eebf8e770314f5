#include "tests/e2e/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace shoal::testing {

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string ShoalBinaryPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  std::string base = srcdir != nullptr ? srcdir : ".";
  return base + "/shoal/server/shoal";
}

std::string WriteTempFile(const std::string& name, const std::string& contents) {
  const char* tmpdir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(tmpdir != nullptr ? tmpdir : "/tmp") + "/" + name;
  std::ofstream out(path);
  out << contents;
  return path;
}

ChildProcess::ChildProcess(const std::string& binary, const std::vector<std::string>& args) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
  pid_ = fork();
  if (pid_ == 0) {
    dup2(pipe_fds[1], STDERR_FILENO);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  stderr_fd_ = pipe_fds[0];
  fcntl(stderr_fd_, F_SETFL, O_NONBLOCK);
}

ChildProcess::~ChildProcess() {
  if (!exited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (stderr_fd_ >= 0) close(stderr_fd_);
}

void ChildProcess::Signal(int signal_number) { kill(pid_, signal_number); }

void ChildProcess::ReadAvailable(int timeout_ms) {
  pollfd p{stderr_fd_, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return;
  char buffer[4096];
  for (;;) {
    ssize_t n = read(stderr_fd_, buffer, sizeof(buffer));
    if (n <= 0) return;
    stderr_.append(buffer, static_cast<size_t>(n));
  }
}

std::optional<std::string> ChildProcess::WaitForStderrLine(const std::string& needle,
                                                           int timeout_ms, size_t from) {
  int64_t deadline = NowMs() + timeout_ms;
  size_t searched = from;
  for (;;) {
    size_t found = stderr_.find(needle, searched);
    if (found != std::string::npos) {
      size_t line_start = stderr_.rfind('\n', found);
      line_start = line_start == std::string::npos ? 0 : line_start + 1;
      size_t line_end = stderr_.find('\n', found);
      if (line_end != std::string::npos) return stderr_.substr(line_start, line_end - line_start);
    }
    int64_t left = deadline - NowMs();
    if (left <= 0) return std::nullopt;
    ReadAvailable(static_cast<int>(std::min<int64_t>(left, 100)));
  }
}

std::optional<int> ChildProcess::WaitForExit(int timeout_ms) {
  int64_t deadline = NowMs() + timeout_ms;
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exited_ = true;
      ReadAvailable(0);
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return std::nullopt;
    }
    if (NowMs() > deadline) return std::nullopt;
    ReadAvailable(20);
  }
}

int PortFromListeningLine(const std::string& line) {
  size_t on = line.find(" on ");
  if (on == std::string::npos) return -1;
  size_t space = line.find(' ', on + 4);
  std::string address = line.substr(on + 4, space - on - 4);
  size_t colon = address.rfind(':');
  return colon == std::string::npos ? -1 : std::atoi(address.c_str() + colon + 1);
}

int ConnectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

std::string EncodeFrame(const std::string& payload) {
  uint32_t length = htonl(static_cast<uint32_t>(payload.size()));
  std::string frame(reinterpret_cast<const char*>(&length), 4);
  return frame + payload;
}

bool WriteAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string ReadUpTo(int fd, size_t n, int timeout_ms) {
  std::string out;
  int64_t deadline = NowMs() + timeout_ms;
  char buffer[65536];
  while (out.size() < n) {
    int64_t left = deadline - NowMs();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) break;
    ssize_t got = recv(fd, buffer, std::min(sizeof(buffer), n - out.size()), 0);
    if (got <= 0) break;
    out.append(buffer, static_cast<size_t>(got));
  }
  return out;
}

}  // namespace shoal::testing
