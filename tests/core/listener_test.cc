// Listener on a real loopback socket, driven turn by turn on the test thread with a fake clock
// (accept budget, descriptor exhaustion, the retry pause, the final drain); and a Worker's
// accounting of open connections against max_connections, over real sockets and its own thread.
#include "core/listener.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "core/worker.h"
#include "gtest/gtest.h"
#include "tests/core/manual_clock_loop.h"
#include "tests/support/assert_ok.h"
#include "tests/support/default_options.h"

namespace shoal::core {
namespace {

constexpr int64_t kMs = kManualTickNs;

class CollectingHandler final : public AcceptHandler {
 public:
  void OnAccepted(ScopedFd fd, const SocketAddress&, size_t listener_index) override {
    EXPECT_EQ(listener_index, 7u);
    accepted.push_back(std::move(fd));
  }
  std::vector<ScopedFd> accepted;
};

absl::StatusOr<ScopedFd> ListenOnLoopback() {
  auto address = SocketAddress::Parse("127.0.0.1:0");
  if (!address.ok()) return address.status();
  return Listen(*address, shoal::testing::DefaultListenOptions());
}

// A blocking connect: on loopback the handshake is complete (the connection waits in the accept
// queue) when it returns.
ScopedFd ConnectTo(const SocketAddress& address) {
  ScopedFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (connect(fd.get(), address.sockaddr_ptr(), address.length()) != 0) fd.reset();
  return fd;
}

// True once `fd` reports end of stream (the server closed it), within one second.
bool ClosedByServer(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 1000) != 1) return false;
  char byte;
  return recv(fd, &byte, 1, MSG_DONTWAIT) == 0;
}

// Lowers the descriptor limit so the next new descriptor fails with EMFILE; restores it on scope
// exit.
class DescriptorLimit {
 public:
  DescriptorLimit() {
    getrlimit(RLIMIT_NOFILE, &saved_);
    int lowest_free = open("/dev/null", O_RDONLY | O_CLOEXEC);
    close(lowest_free);
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(lowest_free);
    setrlimit(RLIMIT_NOFILE, &lowered);
  }
  ~DescriptorLimit() { Restore(); }
  void Restore() { setrlimit(RLIMIT_NOFILE, &saved_); }

 private:
  rlimit saved_{};
};

class ListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(loop_, CreateManualClockLoop(&now_ns_));
    auto fd = ListenOnLoopback();
    ASSERT_TRUE(fd.ok()) << fd.status();
    auto address = LocalAddress(fd->get());
    ASSERT_TRUE(address.ok());
    address_ = *address;
    listen_fd_ = std::move(*fd);
  }

  void StartListener(ReserveFd& reserve, Listener::Options options) {
    listener_ = std::make_unique<Listener>(*loop_, std::move(listen_fd_), 7, stats_, handler_,
                                           reserve, options);
    ASSERT_TRUE(listener_->Start().ok());
  }

  void StartListenerWithBudget(ReserveFd& reserve, size_t accept_budget) {
    Listener::Options options;
    options.accept_budget = accept_budget;
    StartListener(reserve, options);
  }

  std::vector<ScopedFd> ConnectClients(int n) {
    std::vector<ScopedFd> clients;
    for (int i = 0; i < n; ++i) {
      clients.push_back(ConnectTo(address_));
      EXPECT_TRUE(clients.back().valid());
    }
    return clients;
  }

  uint64_t emfile_errors() const { return stats_.accept_errors[0].value(); }

  int64_t now_ns_ = 1'000'000 * kMs;
  std::unique_ptr<EventLoop> loop_;
  ScopedFd listen_fd_;
  SocketAddress address_;
  ListenerStats stats_{"test"};
  CollectingHandler handler_;
  std::unique_ptr<Listener> listener_;
};

TEST_F(ListenerTest, AcceptsAtMostTheBudgetAtATimeAndRequeuesItselfForTheRest) {
  ReserveFd reserve;
  StartListenerWithBudget(reserve, 2);
  auto clients = ConnectClients(5);
  loop_->PollOnce();
  EXPECT_GE(handler_.accepted.size(), 2u);
  EXPECT_LT(handler_.accepted.size(), 5u) << "the budget must stop the first batch";
  // No new edge comes for the connections left in the queue: the ready list brings them.
  for (int turn = 0; turn < 5 && handler_.accepted.size() < 5; ++turn) loop_->PollOnce();
  EXPECT_EQ(handler_.accepted.size(), 5u);
}

TEST_F(ListenerTest, WithTheReserveDescriptorExhaustionClosesPendingConnections) {
  ReserveFd reserve;
  ASSERT_TRUE(reserve.held());
  StartListener(reserve, Listener::Options{});
  auto clients = ConnectClients(3);
  {
    DescriptorLimit limit;
    loop_->PollOnce();
  }
  EXPECT_TRUE(handler_.accepted.empty());
  // One per pending connection, and (the kernel checks the descriptor first) one for the empty
  // queue after them.
  EXPECT_GE(emfile_errors(), 3u);
  EXPECT_TRUE(reserve.held());
  for (auto& client : clients) EXPECT_TRUE(ClosedByServer(client.get()));
}

TEST_F(ListenerTest, WithoutTheReserveItPausesAndRetriesFromATimer) {
  Listener::Options options;
  options.retry_after_ns = 100 * kMs;
  auto clients = ConnectClients(2);
  {
    DescriptorLimit limit;
    ReserveFd reserve;  // cannot open under the limit
    ASSERT_FALSE(reserve.held());
    StartListener(reserve, options);
    loop_->PollOnce();
    EXPECT_EQ(emfile_errors(), 1u);
    limit.Restore();
    EXPECT_TRUE(handler_.accepted.empty());

    // Paused: a new arrival's edge is ignored until the retry.
    clients.push_back(ConnectTo(address_));
    loop_->PollOnce();
    EXPECT_TRUE(handler_.accepted.empty());
    now_ns_ += options.retry_after_ns - 1;
    loop_->PollOnce();
    EXPECT_TRUE(handler_.accepted.empty());
    now_ns_ += 1;
    loop_->PollOnce();
    EXPECT_EQ(handler_.accepted.size(), 3u);
    listener_.reset();
  }
}

TEST(ReserveFdTest, ALostReserveIsReopenedByTheNextAttempt) {
  auto listen_fd = ListenOnLoopback();
  ASSERT_TRUE(listen_fd.ok()) << listen_fd.status();
  DescriptorLimit limit;
  ReserveFd reserve;  // the slot it needs is taken
  ASSERT_FALSE(reserve.held());
  EXPECT_EQ(reserve.ShedOne(listen_fd->get()), ReserveFd::Shed::kNoReserve);
  reserve.RestoreIfLost();
  EXPECT_FALSE(reserve.held());
  limit.Restore();
  reserve.RestoreIfLost();
  EXPECT_TRUE(reserve.held());
}

TEST(ReserveFdTest, ShedOneReopensALostReserveFirstThenAcceptsAndCloses) {
  auto listen_fd = ListenOnLoopback();
  ASSERT_TRUE(listen_fd.ok()) << listen_fd.status();
  auto bound = LocalAddress(listen_fd->get());
  ASSERT_TRUE(bound.ok());
  ScopedFd client = ConnectTo(*bound);
  ASSERT_TRUE(client.valid());
  DescriptorLimit limit;
  ReserveFd reserve;
  ASSERT_FALSE(reserve.held());
  limit.Restore();
  EXPECT_EQ(reserve.ShedOne(listen_fd->get()), ReserveFd::Shed::kOne);
  EXPECT_TRUE(reserve.held());
  EXPECT_TRUE(ClosedByServer(client.get()));
  EXPECT_EQ(reserve.ShedOne(listen_fd->get()), ReserveFd::Shed::kQueueEmpty);
  EXPECT_TRUE(reserve.held());
}

TEST_F(ListenerTest, AcceptPendingAndCloseTakesTheWholeQueueThenRefusesNewConnections) {
  ReserveFd reserve;
  StartListenerWithBudget(reserve, 1);
  auto clients = ConnectClients(3);
  listener_->AcceptPendingAndClose();
  EXPECT_EQ(handler_.accepted.size(), 3u);
  EXPECT_FALSE(listener_->open());
  EXPECT_FALSE(ConnectTo(address_).valid());
}

// Answers nothing; the tests only count connections.
class SilentProtocol final : public Protocol {
  class SilentSession final : public Session {
   public:
    explicit SilentSession(SessionContext& connection) : Session(connection) {}
    size_t OnData(std::string_view input) override { return input.size(); }
    bool RequestInProgress() const override { return false; }
  };

 public:
  std::unique_ptr<Session> NewSession(SessionContext& connection) override {
    return std::make_unique<SilentSession>(connection);
  }
};

bool WaitFor(const std::function<bool()>& condition) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(WorkerAccept, OpenConnectionsAreCountedAgainstMaxConnectionsAndReleasedOnClose) {
  auto listen_fd = ListenOnLoopback();
  ASSERT_TRUE(listen_fd.ok()) << listen_fd.status();
  auto address = LocalAddress(listen_fd->get());
  ASSERT_TRUE(address.ok());
  std::atomic<int64_t> open{0};
  const std::atomic<int64_t> max_connections{2};
  Worker::Options options = shoal::testing::DefaultWorkerOptions();
  options.open_connections = &open;
  options.max_connections = &max_connections;
  std::vector<WorkerListener> listeners(1);
  listeners[0].name = "test";
  listeners[0].fd = std::move(*listen_fd);
  listeners[0].protocol = std::make_unique<SilentProtocol>();
  auto worker = Worker::Create(options, std::move(listeners), nullptr);
  ASSERT_TRUE(worker.ok()) << worker.status();
  ASSERT_TRUE((*worker)->Start().ok());
  const ListenerStats& stats = *(*worker)->stats().listeners[0];
  auto closed = [&stats](CloseReason reason) {
    return stats.closed[static_cast<size_t>(reason)].value();
  };

  ScopedFd first = ConnectTo(*address);
  ScopedFd second = ConnectTo(*address);
  ASSERT_TRUE(WaitFor([&] { return stats.accepted.value() == 2; }));
  ScopedFd over = ConnectTo(*address);
  ASSERT_TRUE(WaitFor([&] { return closed(CloseReason::kOverload) == 1; }));
  EXPECT_TRUE(ClosedByServer(over.get()));
  EXPECT_EQ(open.load(), 2);
  EXPECT_EQ(stats.active.value(), 2);

  first.reset();
  ASSERT_TRUE(WaitFor([&] { return open.load() == 1; }));
  EXPECT_EQ(closed(CloseReason::kPeerClosed), 1u);
  ScopedFd third = ConnectTo(*address);
  ASSERT_TRUE(WaitFor([&] { return stats.accepted.value() == 4 && open.load() == 2; }));
  EXPECT_EQ(closed(CloseReason::kOverload), 1u);
  (*worker)->Stop();
  EXPECT_EQ(open.load(), 0);
}

}  // namespace
}  // namespace shoal::core
