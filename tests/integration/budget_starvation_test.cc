// Budget starvation: 200 non-readers (4 KiB receive buffer, 536-byte MSS) fill
// a 2-worker server's worker budgets with 64 KiB echo frames and keep sending;
// then 20 well-behaved clients each do 50 round trips of 1 KB. Every round trip
// must complete, the worst within 500 ms (timing asserted only outside
// sanitizers), and the memory the server holds for peers (input + output
// gauges) and the process's resident growth must stay within the configured
// budgets plus fixed slack.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/integration_bounds.h"
#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_client.h"
#include "tests/support/echo_wire.h"
#include "tests/support/process_resources.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

constexpr int kWorkers = 2;
constexpr uint64_t kWorkerBudget = 16ull << 20;
constexpr size_t kNonReaders = 200;
constexpr size_t kReaders = 20;
constexpr size_t kRoundTrips = 50;
constexpr size_t kHogFrameBytes = 64 << 10;
constexpr size_t kReaderPayloadBytes = 1000;
// Beyond the budgets: one read budget per worker plus input buffers of
// connections mid-frame.
constexpr int64_t kSlackBytes = kWorkers * (4 << 20);

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kTimingAsserted = false;
#else
constexpr bool kTimingAsserted = true;
#endif

int64_t HeldBytes(const TestServer &server) {
  int64_t held = 0;
  for (int w = 0; w < server.worker_count(); ++w) {
    held += server.worker_stats(w).input_buffer_bytes.value() +
            server.worker_stats(w).output_queue_bytes.value();
  }
  return held;
}

absl::StatusOr<core::ScopedFd> ConnectSmallWindow(uint16_t port) {
  ClientOptions options;
  options.receive_buffer = 4096;
  auto fd = NewClientSocket(options);
  if (!fd.ok()) return fd.status();
  int mss = 536;
  if (setsockopt(fd->get(), IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss)) != 0) {
    return absl::InternalError("TCP_MAXSEG");
  }
  if (auto status = ConnectSocket(fd->get(), port, seconds(10)); !status.ok()) return status;
  return fd;
}

// Sends 64 KiB frames to every non-reader, as fast as each socket takes them,
// until `stop`.
class HogPump {
 public:
  explicit HogPump(std::vector<core::ScopedFd> fds) : fds_(std::move(fds)) {
    frame_ = EncodeFrame(std::string(kHogFrameBytes, 'h'));
    offsets_.assign(fds_.size(), 0);
    alive_.assign(fds_.size(), true);
  }
  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }

 private:
  void Run() {
    std::vector<pollfd> polls(fds_.size());
    while (!stop_.load()) {
      for (size_t i = 0; i < fds_.size(); ++i) {
        polls[i] = {alive_[i] ? fds_[i].get() : -1, POLLOUT, 0};
      }
      if (poll(polls.data(), polls.size(), 10) <= 0) continue;
      for (size_t i = 0; i < fds_.size(); ++i) {
        if (!alive_[i] || polls[i].revents == 0) continue;
        for (;;) {
          ssize_t n = send(fds_[i].get(), frame_.data() + offsets_[i], frame_.size() - offsets_[i],
                           MSG_DONTWAIT | MSG_NOSIGNAL);
          if (n <= 0) {
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) alive_[i] = false;
            break;
          }
          sent_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
          offsets_[i] = (offsets_[i] + static_cast<size_t>(n)) % frame_.size();
        }
      }
    }
  }

  std::vector<core::ScopedFd> fds_;
  std::string frame_;
  std::vector<size_t> offsets_;
  std::vector<bool> alive_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> sent_{0};
  std::thread thread_;
};

TEST(BudgetStarvationTest, ReadersGetEveryReplyWhileNonReadersHoldTheBudget) {
  TestServerOptions options;
  options.workers = kWorkers;
  options.settings.worker_budget = kWorkerBudget;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer &s = *server;

  // Half the non-readers fill the budgets; the other half connect only then, each with nothing
  // queued yet, and take what slack the budget rule leaves.
  std::atomic<bool> sampling{true};
  std::atomic<int64_t> max_held{0};
  std::atomic<uint64_t> max_resident{0};
  const uint64_t resident_before = ResidentBytes();
  std::thread sampler([&] {
    for (int sample = 0; sampling.load(); ++sample) {
      int64_t held = HeldBytes(s);
      if (held > max_held.load()) max_held.store(held);
      if (sample % 256 == 0) max_resident.store(std::max(max_resident.load(), ResidentBytes()));
      std::this_thread::yield();
    }
  });
  std::vector<std::unique_ptr<HogPump>> pumps;
  for (int wave = 0; wave < 2; ++wave) {
    std::vector<core::ScopedFd> hogs;
    for (size_t i = 0; i < kNonReaders / 2; ++i) {
      ASSERT_OK_AND_ASSIGN(auto fd, ConnectSmallWindow(s.port()));
      hogs.push_back(std::move(fd));
    }
    pumps.push_back(std::make_unique<HogPump>(std::move(hogs)));
    HogPump& pump = *pumps.back();
    pump.Start();
    // Filled: the server stopped taking this wave's bytes.
    bool stalled = false;
    auto stop = StallDetector([&] { return pump.sent() >> 16; }, milliseconds(500), &stalled);
    WaitFor(stop, seconds(20));
  }

  std::vector<double> worst_ms(kReaders, 0);
  std::vector<std::string> failures(kReaders);
  std::vector<std::thread> readers;
  for (size_t r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      auto fd = Connect(s.port(), seconds(10));
      if (!fd.ok()) {
        failures[r] = "connect: " + std::string(fd.status().message());
        return;
      }
      std::string payload(kReaderPayloadBytes, static_cast<char>('a' + r));
      for (size_t i = 0; i < kRoundTrips; ++i) {
        auto start = Clock::now();
        auto status = PingPong(fd->get(), payload, seconds(5));
        if (!status.ok()) {
          failures[r] = "round trip " + std::to_string(i) + ": " + std::string(status.message());
          return;
        }
        worst_ms[r] = std::max(worst_ms[r], MillisBetween(start, Clock::now()));
      }
    });
  }
  for (auto &reader : readers) reader.join();
  for (auto& pump : pumps) pump->Stop();
  sampling.store(false);
  sampler.join();

  for (size_t r = 0; r < kReaders; ++r) EXPECT_EQ(failures[r], "") << "reader " << r;
  double worst = *std::max_element(worst_ms.begin(), worst_ms.end());
  int64_t limit = static_cast<int64_t>(kWorkers * kWorkerBudget) + kSlackBytes;
  // The clients' own buffers and the test's threads live in this process too: a fixed 64 MiB.
  const int64_t resident_growth =
      static_cast<int64_t>(max_resident.load()) - static_cast<int64_t>(resident_before);
  const int64_t resident_limit = limit + (64 << 20);
  std::printf(
      "budget starvation: worst round trip %.1f ms, max held %.1f MiB, resident growth %.1f MiB "
      "(limits %.1f / %.1f MiB)\n",
      worst, static_cast<double>(max_held.load()) / (1 << 20),
      static_cast<double>(resident_growth) / (1 << 20), static_cast<double>(limit) / (1 << 20),
      static_cast<double>(resident_limit) / (1 << 20));
  if (kTimingAsserted) {
    EXPECT_LT(worst, 500.0);
  }
  EXPECT_LE(max_held.load(), limit);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  EXPECT_LE(resident_growth, resident_limit);
#endif
  ASSERT_TRUE(s.Barrier());
  std::printf("%s\n", s.StatsSummary().c_str());
}

}  // namespace
}  // namespace shoal::testing
