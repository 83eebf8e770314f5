// The process reserve descriptor: lost when no descriptor is free, reopened by a later attempt.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/listener.h"
#include "gtest/gtest.h"

namespace shoal::core {
namespace {

class LoweredLimit {
 public:
  LoweredLimit() {
    getrlimit(RLIMIT_NOFILE, &saved_);
    int lowest_free = open("/dev/null", O_RDONLY | O_CLOEXEC);
    close(lowest_free);
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(lowest_free);
    setrlimit(RLIMIT_NOFILE, &lowered);
  }
  ~LoweredLimit() { Restore(); }
  void Restore() { setrlimit(RLIMIT_NOFILE, &saved_); }

 private:
  rlimit saved_{};
};

ScopedFd ListeningSocket() {
  auto address = SocketAddress::Parse("127.0.0.1:0");
  EXPECT_TRUE(address.ok());
  auto fd = Listen(*address, ListenOptions{});
  EXPECT_TRUE(fd.ok());
  return fd.ok() ? std::move(*fd) : ScopedFd();
}

TEST(ReserveFd, ALostReserveIsReopenedByTheNextAttempt) {
  ScopedFd listener = ListeningSocket();
  LoweredLimit limit;
  ReserveFd reserve;  // the slot it needs is taken
  ASSERT_FALSE(reserve.held());
  EXPECT_EQ(reserve.ShedOne(listener.get()), ReserveFd::Shed::kNoReserve);
  reserve.RestoreIfLost();
  EXPECT_FALSE(reserve.held());
  limit.Restore();
  reserve.RestoreIfLost();
  EXPECT_TRUE(reserve.held());
}

TEST(ReserveFd, ShedOneReopensALostReserveFirstThenAcceptsAndCloses) {
  ScopedFd listener = ListeningSocket();
  auto bound = LocalAddress(listener.get());
  ASSERT_TRUE(bound.ok());
  ScopedFd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(connect(client.get(), bound->sockaddr_ptr(), bound->length()), 0);
  LoweredLimit limit;
  ReserveFd reserve;
  ASSERT_FALSE(reserve.held());
  limit.Restore();
  // The pending connection is shed and the reserve is held afterwards.
  EXPECT_EQ(reserve.ShedOne(listener.get()), ReserveFd::Shed::kOne);
  EXPECT_TRUE(reserve.held());
  char byte;
  EXPECT_EQ(recv(client.get(), &byte, 1, 0), 0);
  EXPECT_EQ(reserve.ShedOne(listener.get()), ReserveFd::Shed::kQueueEmpty);
  EXPECT_TRUE(reserve.held());
}

}  // namespace
}  // namespace shoal::core
