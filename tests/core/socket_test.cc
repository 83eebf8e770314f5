#include "core/socket.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/default_options.h"

namespace shoal::core {
namespace {

// Parse(text) succeeds with this family and port, and ToString() gives `text` back.
struct ParsedAddress {
  const char* text;
  int family;
  uint16_t port;
};

TEST(SocketAddressTest, ParsesIpv4AndBracketedIpv6AndPrintsThemBack) {
  const ParsedAddress cases[] = {
      {"127.0.0.1:7000", AF_INET, 7000},
      {"0.0.0.0:0", AF_INET, 0},
      {"255.255.255.255:65535", AF_INET, 65535},
      {"[::1]:9100", AF_INET6, 9100},
      {"[::]:7000", AF_INET6, 7000},
      {"[2001:db8::42]:80", AF_INET6, 80},
      {"[::ffff:10.0.0.1]:1", AF_INET6, 1},
  };
  for (const ParsedAddress& c : cases) {
    auto address = SocketAddress::Parse(c.text);
    ASSERT_TRUE(address.ok()) << c.text << ": " << address.status();
    EXPECT_EQ(address->family(), c.family) << c.text;
    EXPECT_EQ(address->port(), c.port) << c.text;
    EXPECT_EQ(address->ToString(), c.text);
  }
}

TEST(SocketAddressTest, RejectsMalformed) {
  for (const char* text :
       {"", "7000", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:7x",
        "127.0.0.1:+80", "1.2.3:80", "256.0.0.1:80", "localhost:80", "::1:80", "[::1]", "[::1]80",
        "[::1:80", "[zz::1]:80", ":80", "127.0.0.1:123456"}) {
    auto address = SocketAddress::Parse(text);
    EXPECT_FALSE(address.ok()) << "accepted '" << text << "'";
    if (!address.ok()) {
      EXPECT_NE(std::string(address.status().message()).find("invalid address"), std::string::npos);
    }
  }
}

// Listens on `text` with the default options into *fd; returns the address it is bound to.
absl::StatusOr<SocketAddress> ListenWithDefaults(const char* text, ScopedFd* fd) {
  auto address = SocketAddress::Parse(text);
  if (!address.ok()) return address.status();
  auto listening = Listen(*address, shoal::testing::DefaultListenOptions());
  if (!listening.ok()) return listening.status();
  *fd = std::move(*listening);
  return LocalAddress(fd->get());
}

TEST(SocketTest, ListenOnPortZeroReportsRealPort) {
  ScopedFd fd;
  auto bound = ListenWithDefaults("127.0.0.1:0", &fd);
  ASSERT_TRUE(bound.ok()) << bound.status();
  EXPECT_NE(bound->port(), 0);

  // A second reuseport socket may bind the same port; a plain one may not.
  auto second = Listen(*bound, ListenOptions{128, true});
  EXPECT_TRUE(second.ok()) << second.status();
  auto plain = Listen(*bound, ListenOptions{128, false});
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(std::string(plain.status().message()).find("Address already in use"),
            std::string::npos)
      << plain.status();
}

TEST(ListenTest, ABacklogOfZeroIsRejected) {
  auto fd = Listen(*SocketAddress::Parse("127.0.0.1:0"), ListenOptions{});
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SocketTest, Ipv6WildcardIsDualStack) {
  ScopedFd fd;
  auto bound = ListenWithDefaults("[::]:0", &fd);
  ASSERT_TRUE(bound.ok()) << bound.status();
  auto v4 = SocketAddress::Parse("127.0.0.1:" + std::to_string(bound->port()));
  auto client = ConnectNonBlocking(*v4);
  ASSERT_TRUE(client.ok()) << client.status();
}

TEST(ErrnoStatusTest, NamesTheCallAndTheError) {
  absl::Status status = ErrnoStatus(EADDRINUSE, "bind 0.0.0.0:7000");
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(status.message(), "bind 0.0.0.0:7000: Address already in use");
  EXPECT_EQ(ErrnoStatus(EMFILE, "accept").code(), absl::StatusCode::kResourceExhausted);
}

int IntOption(int fd, int name) {
  int value = 0;
  socklen_t length = sizeof(value);
  getsockopt(fd, SOL_SOCKET, name, &value, &length);
  return value;
}

TEST(ListenTest, BufferSizesGoOnTheListeningSocketAndAcceptedSocketsInheritThem) {
  ListenOptions options = shoal::testing::DefaultListenOptions();
  options.receive_buffer = 96 << 10;
  options.send_buffer = 48 << 10;
  auto listener = Listen(*SocketAddress::Parse("127.0.0.1:0"), options);
  ASSERT_TRUE(listener.ok()) << listener.status();
  // Linux reports twice the requested size (the bookkeeping overhead it adds).
  EXPECT_EQ(IntOption(listener->get(), SO_RCVBUF), 2 * options.receive_buffer);
  EXPECT_EQ(IntOption(listener->get(), SO_SNDBUF), 2 * options.send_buffer);

  auto address = LocalAddress(listener->get());
  ASSERT_TRUE(address.ok());
  ScopedFd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(connect(client.get(), address->sockaddr_ptr(), address->length()), 0);
  ScopedFd accepted(accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted.valid());
  EXPECT_EQ(IntOption(accepted.get(), SO_RCVBUF), 2 * options.receive_buffer);
  EXPECT_EQ(IntOption(accepted.get(), SO_SNDBUF), 2 * options.send_buffer);
}

}  // namespace
}  // namespace shoal::core
