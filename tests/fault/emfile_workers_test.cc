// Descriptor exhaustion with several workers, in process: every worker's listener shares the one
// process reserve fd. With the descriptor table full, queued connections on every worker are
// accepted and closed (none left hanging), and the reserve is held again afterwards. (A thread
// racing for the freed slot is covered by the ReserveFd cases of tests/core/listener_test.)
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "core/listener.h"
#include "gtest/gtest.h"
#include "tests/support/client_socket.h"
#include "tests/support/echo_wire.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

// Lowers the soft descriptor limit to the lowest free descriptor, so every new descriptor fails
// with EMFILE until Restore (or scope exit).
class FullDescriptorTable {
 public:
  FullDescriptorTable() {
    getrlimit(RLIMIT_NOFILE, &saved_);
    Fill();
  }
  ~FullDescriptorTable() { Restore(); }
  // Lowers the limit again, to the lowest descriptor free now.
  void Fill() {
    int lowest_free = open("/dev/null", O_RDONLY | O_CLOEXEC);
    close(lowest_free);
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(lowest_free);
    setrlimit(RLIMIT_NOFILE, &lowered);
  }
  void Restore() { setrlimit(RLIMIT_NOFILE, &saved_); }

 private:
  rlimit saved_{};
};

std::vector<core::ScopedFd> ClientSockets(size_t n) {
  std::vector<core::ScopedFd> sockets;
  for (size_t i = 0; i < n; ++i) {
    auto fd = NewClientSocket();
    EXPECT_TRUE(fd.ok()) << fd.status();
    if (fd.ok()) sockets.push_back(std::move(*fd));
  }
  return sockets;
}

enum class Fate { kServed, kClosed, kStuck };

Fate FateOf(int fd) {
  const std::string frame = EncodeFrame("emfile");
  if (!SendAll(fd, frame, seconds(5)).ok()) return Fate::kClosed;
  std::string data;
  EndKind end = WaitForEnd(fd, seconds(5), &data);
  if (end == EndKind::kData) return Fate::kServed;
  return end == EndKind::kTimeout ? Fate::kStuck : Fate::kClosed;
}

class EmfileWorkers : public ::testing::TestWithParam<int> {};

TEST_P(EmfileWorkers, QueuedConnectionsClosedOnEveryWorkerAndTheReserveIsNeverLost) {
  TestServerOptions options;
  options.workers = GetParam();
  auto server_or = TestServer::Start(options);
  ASSERT_TRUE(server_or.ok()) << server_or.status();
  TestServer& server = **server_or;
  ASSERT_TRUE(core::ReserveFd::Process().held());
  constexpr size_t kClients = 64;
  std::vector<core::ScopedFd> full_table = ClientSockets(kClients);
  FullDescriptorTable table;

  // Table full, nobody racing: every connection, whichever worker it reaches, is shed.
  size_t stuck = 0, served = 0;
  for (auto& fd : full_table) ASSERT_TRUE(ConnectSocket(fd.get(), server.port(), seconds(5)).ok());
  for (auto& fd : full_table) {
    Fate fate = FateOf(fd.get());
    stuck += fate == Fate::kStuck;
    served += fate == Fate::kServed;
  }
  EXPECT_EQ(stuck, 0u) << "connections left hanging at the descriptor limit";
  EXPECT_EQ(served, 0u);
  EXPECT_GE(server.accept_errors(EMFILE), kClients);
  EXPECT_TRUE(core::ReserveFd::Process().held());
  full_table.clear();

  table.Restore();
  // Descriptors free again: new connections are served and the reserve is held again.
  auto fd = Connect(server.port());
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(FateOf(fd->get()), Fate::kServed);
  EXPECT_TRUE(WaitFor([] { return core::ReserveFd::Process().held(); }, seconds(5)));
  std::printf("FIGURES emfile workers=%d: EMFILE counted %llu\n", GetParam(),
              static_cast<unsigned long long>(server.accept_errors(EMFILE)));
}

INSTANTIATE_TEST_SUITE_P(TwoAndFour, EmfileWorkers, ::testing::Values(2, 4));

}  // namespace
}  // namespace shoal::testing
