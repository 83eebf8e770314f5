// Accepting over real sockets: SO_REUSEPORT spreads connections over every worker, and descriptor
// exhaustion (EMFILE) is counted, does not make a worker spin, and heals once descriptors free up.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/integration_bounds.h"
#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_client.h"
#include "tests/support/echo_stream.h"
#include "tests/support/echo_wire.h"
#include "tests/support/process_resources.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

using core::CloseReason;

// 400 connections over 4 reuseport workers: every worker accepts some (the kernel hashes the
// 4-tuple, so with 400 connections an empty worker means the sockets are not in one reuseport
// group), all 400 are held at once, and each is served.
TEST(AcceptIntegration, ReuseportSpreadsConnectionsOverEveryWorker) {
  constexpr size_t kConnections = 400;
  RaiseFdLimitToHard();
  TestServerOptions options;
  options.workers = 4;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  Deadline deadline = Deadline::In(kTestDeadline);
  auto fds = ConnectMany(s.port(), kConnections, deadline);
  ASSERT_TRUE(fds.ok()) << fds.status();
  // Keep every connection open until all are counted.
  ASSERT_TRUE(WaitFor([&] {
    return s.accepted() == kConnections && s.active() == static_cast<int64_t>(kConnections);
  }, std::chrono::seconds(10))) << s.StatsSummary();

  std::string distribution;
  for (int w = 0; w < s.worker_count(); ++w) {
    uint64_t accepted = s.listener_stats(w).accepted.value();
    distribution += std::to_string(accepted) + " ";
    EXPECT_GT(accepted, 0u) << "worker " << w << " accepted nothing: " << s.StatsSummary();
    EXPECT_EQ(s.listener_stats(w).active.value(), static_cast<int64_t>(accepted));
  }
  RecordProperty("accepted_per_worker", distribution);

  // And each connection is actually served by the worker that holds it.
  EchoDriver driver;
  for (size_t i = 0; i < fds->size(); ++i) {
    driver.Add((*fds)[i].get(), FrameStream::Random(1000 + i, 2, 0, 2048));
  }
  ASSERT_EQ(driver.Run(deadline), EchoDriver::Result::kAllFinished) << driver.Summary();
  for (size_t i = 0; i < driver.size(); ++i) {
    EXPECT_FALSE(driver.conn(i).failed()) << driver.Summary();
  }
  for (int w = 0; w < s.worker_count(); ++w) {
    EXPECT_EQ(s.listener_stats(w).requests.value(), 2 * s.listener_stats(w).accepted.value())
        << s.StatsSummary();
  }
  EXPECT_EQ(s.closed_total(), 0u) << s.StatsSummary();
}

// Fills this process's descriptor table (lowered soft RLIMIT_NOFILE plus dup()s of /dev/null) and
// puts it back on Release or destruction.
class FdTableFiller {
 public:
  FdTableFiller() = default;
  FdTableFiller(const FdTableFiller&) = delete;
  FdTableFiller& operator=(const FdTableFiller&) = delete;
  ~FdTableFiller() { Release(); }

  // Lowers the soft limit to a little above the highest open descriptor, then takes every free
  // descriptor below it. Afterwards any call that needs a new descriptor fails with EMFILE.
  absl::Status Fill() {
    int highest = HighestOpenFd();
    if (highest < 0) return absl::InternalError("cannot list /proc/self/fd");
    if (getrlimit(RLIMIT_NOFILE, &original_) != 0) return core::ErrnoStatus(errno, "getrlimit");
    rlimit lowered = original_;
    lowered.rlim_cur = std::min<rlim_t>(original_.rlim_cur, static_cast<rlim_t>(highest) + 32);
    if (setrlimit(RLIMIT_NOFILE, &lowered) != 0) return core::ErrnoStatus(errno, "setrlimit");
    lowered_ = true;
    int first = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (first < 0) return core::ErrnoStatus(errno, "open(/dev/null)");
    dups_.push_back(first);
    for (;;) {
      int fd = fcntl(first, F_DUPFD_CLOEXEC, 0);
      if (fd >= 0) {
        dups_.push_back(fd);
        continue;
      }
      if (errno == EMFILE) return absl::OkStatus();
      return core::ErrnoStatus(errno, "dup");
    }
  }

  void Release() {
    for (int fd : dups_) close(fd);
    dups_.clear();
    if (lowered_) {
      setrlimit(RLIMIT_NOFILE, &original_);
      lowered_ = false;
    }
  }

  size_t count() const { return dups_.size(); }

 private:
  static int HighestOpenFd() {
    DIR* dir = opendir("/proc/self/fd");
    if (dir == nullptr) return -1;
    int highest = -1;
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      highest = std::max(highest, std::atoi(entry->d_name));
    }
    closedir(dir);
    return highest;
  }

  rlimit original_{};
  bool lowered_ = false;
  std::vector<int> dups_;
};

// Echoes one small frame on `fd`.
void ExpectEcho(int fd, const std::string& payload, Deadline deadline, const std::string& what) {
  std::string frame = EncodeFrame(payload);
  absl::Status written = SendAll(fd, frame, deadline);
  ASSERT_TRUE(written.ok()) << what << ": " << written;
  auto echoed = ReadExactly(fd, frame.size(), deadline);
  ASSERT_TRUE(echoed.ok()) << what << ": " << echoed.status();
  EXPECT_EQ(*echoed, frame) << what;
}

// The server's accept hits EMFILE: the error is counted by errno, the worker neither spins nor
// stalls its other connections, and once descriptors are free new connections are served (the
// one that met EMFILE was either dropped through the reserve descriptor, or is accepted now).
TEST(AcceptIntegration, EmfileIsCountedDoesNotSpinAndRecovers) {
  TestServerOptions options;
  options.workers = 1;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;
  const core::WorkerStats& worker = s.worker_stats(0);

  Deadline deadline = Deadline::In(kTestDeadline);
  auto established = Connect(s.port(), deadline);
  ASSERT_TRUE(established.ok()) << established.status();
  ASSERT_NO_FATAL_FAILURE(ExpectEcho(established->get(), "before", deadline, "established"));
  ASSERT_TRUE(WaitFor([&] { return s.accepted() == 1; }, std::chrono::seconds(5)));

  // The client socket that will meet EMFILE needs its own descriptor: take it before filling.
  auto late = NewClientSocket();
  ASSERT_TRUE(late.ok()) << late.status();

  FdTableFiller filler;
  absl::Status filled = filler.Fill();
  ASSERT_TRUE(filled.ok()) << filled;
  {
    int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int probe_errno = errno;
    if (probe >= 0) close(probe);
    ASSERT_LT(probe, 0) << "the descriptor table is not full";
    ASSERT_EQ(probe_errno, EMFILE);
  }

  const uint64_t emfile_before = s.accept_errors(EMFILE) + s.accept_errors(ENFILE);
  // The handshake completes in the kernel; the worker's accept4 then fails with EMFILE.
  absl::Status connected = ConnectSocket(late->get(), s.port(), deadline);
  ASSERT_TRUE(connected.ok()) << connected;
  ASSERT_TRUE(WaitFor([&] {
    return s.accept_errors(EMFILE) + s.accept_errors(ENFILE) > emfile_before;
  }, std::chrono::seconds(10))) << "EMFILE not counted: " << s.StatsSummary();

  // Established connections are unaffected while no descriptor is free.
  ASSERT_NO_FATAL_FAILURE(ExpectEcho(established->get(), "during", deadline, "established"));

  // No spin: over a 300 ms measurement window the loop turns only a handful of times (a spinning
  // edge-triggered listener would turn hundreds of thousands of times), and the accept is retried
  // at most at the listener's retry period (100 ms), not in a tight loop.
  const uint64_t turns_before = worker.loop_turn.count();
  const uint64_t errors_before = s.accept_errors(EMFILE) + s.accept_errors(ENFILE);
  const auto window_start = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // measurement window
  const auto window = Clock::now() - window_start;
  const uint64_t turns = worker.loop_turn.count() - turns_before;
  const uint64_t errors = s.accept_errors(EMFILE) + s.accept_errors(ENFILE) - errors_before;
  const auto window_ms = std::chrono::duration_cast<milliseconds>(window).count();
  EXPECT_LE(turns, 50u + static_cast<uint64_t>(window_ms) / 10)
      << "worker loop turned " << turns << " times in " << window_ms << " ms: " << s.StatsSummary();
  EXPECT_LE(errors, 5u + static_cast<uint64_t>(window_ms) / 50)
      << errors << " accept errors in " << window_ms << " ms";
  RecordProperty("loop_turns_in_window", std::to_string(turns));

  // Was the pending connection dropped through the reserve descriptor, or is it still queued?
  bool dropped = false;
  {
    pollfd p{late->get(), POLLIN, 0};
    if (poll(&p, 1, 0) == 1) {
      char byte;
      ssize_t n = recv(late->get(), &byte, 1, MSG_DONTWAIT | MSG_PEEK);
      dropped = n == 0 || (n < 0 && errno == ECONNRESET);
      ASSERT_FALSE(n > 0) << "unexpected data from the server";
    }
  }
  RecordProperty("emfile_path", dropped ? "reserve_fd_drop" : "queued_until_retry");

  filler.Release();

  if (dropped) {
    EXPECT_EQ(s.accepted(), 1u) << "a dropped connection must not count as accepted";
  } else {
    // Still queued: the retry must pick it up now that descriptors are free.
    ASSERT_TRUE(WaitFor([&] { return s.accepted() == 2; }, std::chrono::seconds(5)))
        << s.StatsSummary();
    ASSERT_NO_FATAL_FAILURE(ExpectEcho(late->get(), "queued", deadline, "queued connection"));
  }

  // New connections are accepted and served again.
  const uint64_t accepted_before = s.accepted();
  std::vector<core::ScopedFd> fresh;
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(core::ScopedFd fd, Connect(s.port(), deadline));
    ASSERT_NO_FATAL_FAILURE(ExpectEcho(fd.get(), "after " + std::to_string(i), deadline, "fresh"));
    fresh.push_back(std::move(fd));
  }
  EXPECT_TRUE(WaitFor([&] { return s.accepted() == accepted_before + 5; },
                      std::chrono::seconds(5)))
      << s.StatsSummary();
  ASSERT_NO_FATAL_FAILURE(ExpectEcho(established->get(), "after", deadline, "established"));

  // A second exhaustion heals the same way (the reserve descriptor, if used, was reopened).
  auto late2 = NewClientSocket();
  ASSERT_TRUE(late2.ok()) << late2.status();
  filled = filler.Fill();
  ASSERT_TRUE(filled.ok()) << filled;
  const uint64_t emfile_before2 = s.accept_errors(EMFILE) + s.accept_errors(ENFILE);
  connected = ConnectSocket(late2->get(), s.port(), deadline);
  ASSERT_TRUE(connected.ok()) << connected;
  ASSERT_TRUE(WaitFor([&] {
    return s.accept_errors(EMFILE) + s.accept_errors(ENFILE) > emfile_before2;
  }, std::chrono::seconds(10))) << s.StatsSummary();
  filler.Release();
  auto after = Connect(s.port(), deadline);
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_NO_FATAL_FAILURE(ExpectEcho(after->get(), "after second", deadline, "after second"));

  EXPECT_EQ(s.closed(CloseReason::kReset), 0u) << s.StatsSummary();
}

}  // namespace
}  // namespace shoal::testing
