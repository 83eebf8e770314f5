#include "core/event_loop.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/support/default_options.h"

namespace shoal::core {
namespace {

EventLoop::Options DefaultLoopOptions() {
  EventLoop::Options options;
  options.tick_ns = shoal::testing::DefaultTickNs();
  return options;
}

TEST(EventLoopTest, ATickOfZeroIsRejected) {
  auto loop = EventLoop::Create(EventLoop::Options{});
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.status().code(), absl::StatusCode::kInvalidArgument);
}

class LoopThread {
 public:
  LoopThread() {
    auto loop = EventLoop::Create(DefaultLoopOptions());
    EXPECT_TRUE(loop.ok());
    loop_ = std::move(*loop);
    thread_ = std::thread([this] { loop_->Run(); });
  }
  ~LoopThread() {
    loop_->Quit();
    thread_.join();
  }
  EventLoop& loop() { return *loop_; }

 private:
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
};

template <typename Predicate>
bool WaitUntil(Predicate predicate, int64_t timeout_ns = 10'000'000'000) {
  int64_t deadline = MonotonicNowNs() + timeout_ns;
  while (!predicate()) {
    if (MonotonicNowNs() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(EventLoopTest, PostedTasksRunOnTheLoopThreadInOrder) {
  LoopThread thread;
  std::vector<int> seen;
  std::atomic<bool> done{false};
  std::atomic<bool> wrong_thread{false};
  for (int i = 0; i < 1000; ++i) {
    thread.loop().Post([&, i] {
      if (!thread.loop().InLoopThread()) wrong_thread = true;
      seen.push_back(i);
      if (i == 999) done = true;
    });
  }
  ASSERT_TRUE(WaitUntil([&] { return done.load(); }));
  EXPECT_FALSE(wrong_thread);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(seen[static_cast<size_t>(i)], i);
}

TEST(EventLoopTest, PostFromManyThreadsLosesNothing) {
  LoopThread thread;
  std::atomic<int> count{0};
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) thread.loop().Post([&] { count.fetch_add(1); });
    });
  }
  for (auto& poster : posters) poster.join();
  EXPECT_TRUE(WaitUntil([&] { return count.load() == 20000; })) << count.load();
}

class CountingTimer final : public Timer {
 public:
  ~CountingTimer() override = default;
  std::atomic<int> fired{0};
  std::atomic<int64_t> fired_at{0};

 private:
  void OnExpire() override {
    fired_at = MonotonicNowNs();
    fired.fetch_add(1);
  }
};

TEST(EventLoopTest, TimersFireOnTheLoopNotBeforeTheirDeadline) {
  LoopThread thread;
  CountingTimer timer;
  int64_t deadline = 0;
  thread.loop().Post([&] {
    deadline = thread.loop().now_ns() + 50'000'000;
    thread.loop().timers().Schedule(&timer, deadline);
  });
  ASSERT_TRUE(WaitUntil([&] { return timer.fired.load() == 1; }));
  EXPECT_GE(timer.fired_at.load(), deadline);
}

class Readable final : public IoHandler {
 public:
  void HandleEvents(uint32_t) override { events.fetch_add(1); }
  std::atomic<int> events{0};
};

TEST(EventLoopTest, EdgeTriggeredReadinessIsDispatched) {
  LoopThread thread;
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  ScopedFd a(fds[0]), b(fds[1]);
  Readable handler;
  std::atomic<bool> added{false};
  thread.loop().Post([&] {
    EXPECT_TRUE(thread.loop().Add(a.get(), EPOLLIN | EPOLLET, &handler).ok());
    added = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return added.load(); }));
  ASSERT_EQ(write(b.get(), "x", 1), 1);
  ASSERT_TRUE(WaitUntil([&] { return handler.events.load() >= 1; }));
  std::atomic<bool> removed{false};
  thread.loop().Post([&] {
    thread.loop().Remove(a.get());
    removed = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return removed.load(); }));
}

class TurnCounter final : public TurnObserver {
 public:
  void OnTurnEnd(int64_t, int64_t) override { turns.fetch_add(1); }
  std::atomic<int> turns{0};
};

TEST(EventLoopTest, IdleLoopDoesNotSpin) {
  auto loop = EventLoop::Create(DefaultLoopOptions());
  ASSERT_TRUE(loop.ok());
  TurnCounter counter;
  (*loop)->set_turn_observer(&counter);
  std::thread runner([&] { (*loop)->Run(); });
  int64_t start = MonotonicNowNs();
  while (MonotonicNowNs() - start < 300'000'000) std::this_thread::yield();
  int turns = counter.turns.load();
  (*loop)->Quit();
  runner.join();
  EXPECT_LE(turns, 3) << "an idle loop with no timers must block in epoll_wait";
}

TEST(EventLoopTest, TheInjectedClockIsTheLoopsNow) {
  int64_t now = 5'000'000'000;
  EventLoop::Options options = DefaultLoopOptions();
  options.clock = [&now] { return now; };
  auto loop = EventLoop::Create(options);
  ASSERT_TRUE(loop.ok());
  EXPECT_EQ((*loop)->now_ns(), now);
  now += 123;
  (*loop)->PollOnce();
  EXPECT_EQ((*loop)->now_ns(), now);
}

TEST(EventLoopDeathTest, LoopOnlyCallsFromAnotherThreadAbortInCheckedBuilds) {
  if (!SHOAL_THREAD_CHECKS_ENABLED) GTEST_SKIP() << "thread checks are compiled out in opt builds";
  auto loop = EventLoop::Create(DefaultLoopOptions());
  ASSERT_TRUE(loop.ok());
  EventLoop& l = **loop;
  EXPECT_DEATH(
      {
        std::thread other([&l] { l.PollOnce(); });
        other.join();
      },
      "off its event loop's thread");
}

}  // namespace
}  // namespace shoal::core
