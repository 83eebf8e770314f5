// A log that cannot keep up never stalls a worker. The real binary's stderr is a 4 KiB pipe that
// the test fills and then stops reading (a lagging journald or container runtime). Hundreds of
// oversized frames each ask for a warn line while well-behaved echo clients on the same (single)
// worker keep doing round trips: each must come back within 500 ms. Logging is asynchronous and
// the warn lines are rate-limited, so once the pipe is drained the log shows the
// "(N similar lines suppressed)" note; shoal_log_lines_dropped_total is exported.
//
// With a synchronous sink the worker blocks in write(2) on the first warn line and the next round
// trip times out: the test fails.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_client.h"
#include "tests/support/echo_wire.h"
#include "tests/support/exposition.h"
#include "tests/support/http_client.h"
#include "tests/support/shoal_process.h"
#include "tests/support/subprocess.h"

extern char** environ;

namespace shoal::testing {
namespace {

constexpr int kPipeBytes = 4096;
constexpr int kBadFrames = 300;
constexpr int kWellBehavedClients = 4;
constexpr milliseconds kMaxRoundTrip{500};
// The bad frames are spread over this long, so the rate limit's second turns over with lines
// suppressed and the next admitted line carries the note.
constexpr milliseconds kFloodSpan{2500};

// shoal with stderr on the write end of a pipe whose read end the test holds (and mostly does not
// read). SIGKILLed and reaped on destruction if still running.
class ShoalOnPipe {
 public:
  explicit ShoalOnPipe(const std::string& config_path) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    read_end_ = fds[0];
    fcntl(fds[1], F_SETPIPE_SZ, kPipeBytes);
    // A second open file description of the write end, non-blocking, for the test's filler; the
    // child's descriptor stays blocking.
    filler_ = open(("/proc/self/fd/" + std::to_string(fds[1])).c_str(), O_WRONLY | O_NONBLOCK |
                   O_CLOEXEC);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    std::string binary = ShoalBinaryPath();
    std::string config_flag = "--config=" + config_path;
    char* argv[] = {binary.data(), config_flag.data(), nullptr};
    if (posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv, environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    fcntl(read_end_, F_SETFL, O_NONBLOCK);
  }
  ~ShoalOnPipe() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (filler_ >= 0) close(filler_);
    if (read_end_ >= 0) close(read_end_);
  }

  bool started() const { return pid_ > 0 && read_end_ >= 0 && filler_ >= 0; }
  pid_t pid() const { return pid_; }
  const std::string& log() const { return log_; }

  // Reads the pipe until the log holds a whole line with `needle`; returns that line, or nullopt
  // at the deadline.
  std::optional<std::string> ReadUntilLine(const std::string& needle, Deadline deadline) {
    for (;;) {
      if (size_t at = log_.find(needle); at != std::string::npos) {
        size_t end = log_.find('\n', at);
        if (end != std::string::npos) {
          size_t begin = log_.rfind('\n', at);
          begin = begin == std::string::npos ? 0 : begin + 1;
          return log_.substr(begin, end - begin);
        }
      }
      if (!ReadSome(deadline)) return std::nullopt;
    }
  }
  // Fills the pipe to the last byte (the writer's next line blocks); returns the bytes written.
  size_t FillPipe() {
    size_t filled = 0;
    while (write(filler_, "F", 1) == 1) ++filled;
    return filled;
  }
  int BytesInPipe() const {
    int bytes = 0;
    ioctl(read_end_, FIONREAD, &bytes);
    return bytes;
  }
  // Signals the child and reads its log until it exits; its exit status, or nullopt.
  std::optional<int> Stop(int signal_number, Deadline deadline) {
    kill(pid_, signal_number);
    while (!deadline.expired()) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        while (ReadSome(Deadline::In(milliseconds(0)))) {
        }
        return WIFEXITED(status) ? std::optional<int>(WEXITSTATUS(status)) : std::nullopt;
      }
      ReadSome(Deadline::In(milliseconds(10)));
    }
    return std::nullopt;
  }

 private:
  bool ReadSome(Deadline deadline) {
    char buffer[4096];
    for (;;) {
      ssize_t n = read(read_end_, buffer, sizeof(buffer));
      if (n > 0) {
        log_.append(buffer, static_cast<size_t>(n));
        return true;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) return false;
      pollfd p{read_end_, POLLIN, 0};
      if (poll(&p, 1, deadline.remaining_ms()) == 0) return false;
    }
  }

  pid_t pid_ = -1;
  int read_end_ = -1;
  int filler_ = -1;
  bool reaped_ = false;
  std::string log_;
};

// One oversized frame on its own connection: the server closes it with a warn line.
void SendOversizedFrame(uint16_t port) {
  auto fd = Connect(port, seconds(5));
  ASSERT_TRUE(fd.ok()) << fd.status();
  ASSERT_TRUE(SendAll(fd->get(), EncodeFrameHeader(1 << 20), seconds(5)).ok());
}

TEST(LogFloodE2e, BlockedStderrNeverStallsTheWorker) {
  const std::string config = WriteTempFile(
      "log_flood.yaml", EchoServerConfig(1, "limits:\n  max_frame_bytes: 1KiB\n"));
  ShoalOnPipe shoal(config);
  ASSERT_TRUE(shoal.started());
  auto listening = shoal.ReadUntilLine("listening:", seconds(20));
  ASSERT_TRUE(listening.has_value()) << shoal.log();
  auto admin = shoal.ReadUntilLine("admin: listening on", seconds(20));
  ASSERT_TRUE(admin.has_value()) << shoal.log();
  const auto port = static_cast<uint16_t>(PortFromListeningLine(*listening));
  const int admin_port = PortFromListeningLine(*admin);
  ASSERT_GT(port, 0) << shoal.log();
  ASSERT_GT(admin_port, 0) << shoal.log();

  std::vector<core::ScopedFd> clients;
  for (int i = 0; i < kWellBehavedClients; ++i) {
    auto fd = Connect(port, seconds(5));
    ASSERT_TRUE(fd.ok()) << fd.status();
    ASSERT_TRUE(PingPong(fd->get(), "warm-up", seconds(5)).ok());
    clients.push_back(std::move(*fd));
  }

  // From here on nobody reads: the pipe is full and the log writer's next line blocks.
  ASSERT_GT(shoal.FillPipe(), 0u);
  ASSERT_EQ(shoal.BytesInPipe(), kPipeBytes);

  const std::string payload(64, 'w');
  const Clock::time_point start = Clock::now();
  double worst_ms = 0;
  for (int bad = 0; bad < kBadFrames; ++bad) {
    SendOversizedFrame(port);
    for (const core::ScopedFd& client : clients) {
      const Clock::time_point sent = Clock::now();
      absl::Status round_trip = PingPong(client.get(), payload, kMaxRoundTrip);
      ASSERT_TRUE(round_trip.ok()) << "bad frame " << bad << ": " << round_trip;
      worst_ms = std::max(worst_ms, MillisBetween(sent, Clock::now()));
    }
    // Paces the flood over kFloodSpan: the client's schedule, not a wait for the server.
    std::this_thread::sleep_until(start + kFloodSpan * (bad + 1) / kBadFrames);
  }
  EXPECT_LT(worst_ms, static_cast<double>(kMaxRoundTrip.count()));
  EXPECT_EQ(shoal.BytesInPipe(), kPipeBytes) << "the pipe was read: the test proves nothing";

  // Every bad frame was seen (the last ones may still be closing).
  std::string metrics;
  auto all_counted = [&] {
    auto response = HttpGet(admin_port, "/metrics", seconds(5));
    if (!response) return false;
    metrics = response->body;
    return ParseExposition(metrics).Sum("shoal_connections_closed_total",
                                        {{"reason", "frame_too_large"}}) == kBadFrames;
  };
  EXPECT_TRUE(WaitFor(all_counted, seconds(10))) << metrics;
  EXPECT_TRUE(ParseExposition(metrics).Value("shoal_log_lines_dropped_total").has_value())
      << metrics;

  // Drained, the log shows the rate limit at work: far fewer lines than bad frames, and a note.
  auto note = shoal.ReadUntilLine("similar lines suppressed)", seconds(10));
  EXPECT_TRUE(note.has_value()) << shoal.log();
  clients.clear();
  EXPECT_EQ(shoal.Stop(SIGTERM, seconds(20)), 0);
  size_t warn_lines = 0;
  for (size_t at = 0; (at = shoal.log().find("exceeds max_frame_bytes", at)) != std::string::npos;
       ++at) {
    ++warn_lines;
  }
  std::cout << "worst round trip " << worst_ms << " ms; " << warn_lines << " warn lines for "
            << kBadFrames << " bad frames; " << note.value_or("no note") << "\n";
  EXPECT_GT(warn_lines, 0u);
  EXPECT_LT(warn_lines, static_cast<size_t>(kBadFrames) / 4) << shoal.log();
}

}  // namespace
}  // namespace shoal::testing
