// PROXY protocol on an in-process server: the header is consumed exactly (a request in the same
// segment, in later segments, or a large stream right behind it all arrive), the address it
// carries is what the session's PeerName and the per-source limits see, and an untrusted sender,
// a malformed header or a header cut short closes that connection alone (proxy_protocol_error,
// read_timeout) while other clients are served.
#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "core/cidr.h"
#include "core/proxy_header.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_bounds.h"
#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/proxy_wire.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

using core::CloseReason;
using core::ProxyProtocolMode;

// Answers each line "X\n" with "<PeerName()> X\n": what the connection believes its client is.
class WhoAmISession final : public core::Session {
 public:
  explicit WhoAmISession(core::SessionContext& connection) : Session(connection) {}
  size_t OnData(std::string_view input) override {
    size_t consumed = 0;
    for (size_t end; (end = input.find('\n', consumed)) != std::string_view::npos;
         consumed = end + 1) {
      connection().Send(connection().PeerName() + " " +
                        std::string(input.substr(consumed, end + 1 - consumed)));
    }
    return consumed;
  }
  bool RequestInProgress() const override { return false; }
};

class WhoAmIProtocol final : public core::Protocol {
 public:
  std::unique_ptr<core::Session> NewSession(core::SessionContext& connection) override {
    return std::make_unique<WhoAmISession>(connection);
  }
};

std::vector<core::Cidr> Ranges(std::initializer_list<const char*> texts) {
  std::vector<core::Cidr> ranges;
  for (const char* text : texts) {
    auto range = core::Cidr::Parse(text);
    EXPECT_TRUE(range.ok()) << range.status();
    if (range.ok()) ranges.push_back(*range);
  }
  return ranges;
}

class ProxyProtocolTest : public ::testing::Test {
 protected:
  void StartServer(ProxyProtocolMode mode, std::vector<core::Cidr> trusted = {},
                   core::SourceLimits per_source = {}, int64_t read_timeout_ns = 0,
                   int workers = 1, core::Balance balance = core::Balance::kKernel) {
    TestServerOptions options;
    options.workers = workers;
    options.balance = balance;
    options.factory = [](size_t, int) { return std::make_unique<WhoAmIProtocol>(); };
    options.proxy_protocol = mode;
    options.trusted_proxies = std::move(trusted);
    options.per_source = per_source;
    if (read_timeout_ns > 0) options.settings.read_timeout_ns = read_timeout_ns;
    ASSERT_OK_AND_ASSIGN(server_, TestServer::Start(options));
  }

  core::ScopedFd ConnectClient() {
    auto fd = Connect(server_->port(), seconds(5));
    EXPECT_TRUE(fd.ok()) << fd.status();
    return fd.ok() ? std::move(*fd) : core::ScopedFd();
  }

  // Sends `line` ("X\n") and returns the reply line.
  std::string Ask(int fd, const std::string& line, const std::string& expected_peer) {
    EXPECT_TRUE(SendAll(fd, line, seconds(5)).ok());
    return Read(fd, expected_peer.size() + 1 + line.size());
  }

  std::string Read(int fd, size_t bytes) {
    auto reply = ReadExactly(fd, bytes, kTestDeadline);
    EXPECT_TRUE(reply.ok()) << reply.status() << "; " << server_->StatsSummary();
    return reply.ok() ? *reply : "";
  }

  bool ClosedByServer(int fd) {
    EndKind end = WaitForEnd(fd, kTestDeadline);
    return end == EndKind::kEof || end == EndKind::kReset;
  }

  uint64_t Closed(CloseReason reason) {
    EXPECT_TRUE(server_->Barrier());
    return server_->closed(reason);
  }

  std::unique_ptr<TestServer> server_;
};

TEST_F(ProxyProtocolTest, HeaderAndRequestInOneSegment) {
  StartServer(ProxyProtocolMode::kAny);
  for (const std::string& header : {ProxyV1("203.0.113.7:4242", "10.0.0.1:80"),
                                    ProxyV2("203.0.113.7:4242", "10.0.0.1:80")}) {
    core::ScopedFd client = ConnectClient();
    ASSERT_TRUE(SendAll(client.get(), header + "hello\n", seconds(5)).ok());
    const std::string expected = "203.0.113.7:4242 hello\n";
    EXPECT_EQ(Read(client.get(), expected.size()), expected);
  }
}

TEST_F(ProxyProtocolTest, HeaderAndRequestInSeparateSegments) {
  StartServer(ProxyProtocolMode::kV2);
  const std::string header = ProxyV2("[2001:db8::9]:1000", "[::1]:80", {{0x01, "http/1.1"}});
  core::ScopedFd client = ConnectClient();
  ASSERT_TRUE(SendAll(client.get(), header.substr(0, 7), seconds(5)).ok());
  // Half a header: no session yet, nothing answered, the connection waits.
  EXPECT_EQ(ReadUpTo(client.get(), 1, milliseconds(100)), "");
  ASSERT_TRUE(SendAll(client.get(), header.substr(7), seconds(5)).ok());
  EXPECT_EQ(Ask(client.get(), "a\n", "[2001:db8::9]:1000"), "[2001:db8::9]:1000 a\n");
  EXPECT_EQ(Ask(client.get(), "b\n", "[2001:db8::9]:1000"), "[2001:db8::9]:1000 b\n");
}

TEST_F(ProxyProtocolTest, StreamRightBehindTheHeaderIsNotLost) {
  StartServer(ProxyProtocolMode::kV1);
  std::string lines;
  std::string expected;
  for (int i = 0; i < 5000; ++i) {
    std::string line = "line-" + std::to_string(i) + "\n";
    lines += line;
    expected += "198.51.100.1:5 " + line;
  }
  core::ScopedFd client = ConnectClient();
  ASSERT_TRUE(
      SendAll(client.get(), ProxyV1("198.51.100.1:5", "10.0.0.1:80") + lines, kTestDeadline).ok());
  EXPECT_EQ(Read(client.get(), expected.size()), expected);
}

TEST_F(ProxyProtocolTest, LocalKeepsTheSocketsOwnPeer) {
  StartServer(ProxyProtocolMode::kAny);
  core::ScopedFd client = ConnectClient();
  ASSERT_OK_AND_ASSIGN(core::SocketAddress self, core::LocalAddress(client.get()));
  ASSERT_TRUE(SendAll(client.get(), ProxyV2Local(), seconds(5)).ok());
  EXPECT_EQ(Ask(client.get(), "ping\n", self.ToString()), self.ToString() + " ping\n");
}

TEST_F(ProxyProtocolTest, UntrustedSenderIsClosedAndATrustedOneServed) {
  StartServer(ProxyProtocolMode::kAny, Ranges({"10.0.0.0/8", "::1"}));
  core::ScopedFd client = ConnectClient();
  ASSERT_TRUE(
      SendAll(client.get(), ProxyV1("1.2.3.4:5", "10.0.0.1:80") + "x\n", seconds(5)).ok());
  EXPECT_TRUE(ClosedByServer(client.get()));
  EXPECT_EQ(Closed(CloseReason::kProxyProtocolError), 1u);

  server_.reset();
  StartServer(ProxyProtocolMode::kAny, Ranges({"10.0.0.0/8", "127.0.0.1"}));
  core::ScopedFd trusted = ConnectClient();
  ASSERT_TRUE(SendAll(trusted.get(), ProxyV1("1.2.3.4:5", "10.0.0.1:80"), seconds(5)).ok());
  EXPECT_EQ(Ask(trusted.get(), "x\n", "1.2.3.4:5"), "1.2.3.4:5 x\n");
}

TEST_F(ProxyProtocolTest, MalformedHeaderIsClosedWhileAnotherClientIsServed) {
  StartServer(ProxyProtocolMode::kAny);
  core::ScopedFd good = ConnectClient();
  ASSERT_TRUE(SendAll(good.get(), ProxyV1("192.0.2.1:1", "10.0.0.1:80"), seconds(5)).ok());
  EXPECT_EQ(Ask(good.get(), "1\n", "192.0.2.1:1"), "192.0.2.1:1 1\n");

  const std::vector<std::string> malformed = {
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",          // no header at all
      "PROXY TCP4 1.2.3.4 5.6.7.8 99999 80\r\n",    // port out of range
      "PROXY TCP4 " + std::string(200, '1'),         // longer than any v1 header
      ProxyV2Signature() + "\x31\x11",               // another version
  };
  for (const std::string& bytes : malformed) {
    core::ScopedFd bad = ConnectClient();
    ASSERT_TRUE(SendAll(bad.get(), bytes, seconds(5)).ok());
    EXPECT_TRUE(ClosedByServer(bad.get())) << bytes;
    EXPECT_EQ(Ask(good.get(), "2\n", "192.0.2.1:1"), "192.0.2.1:1 2\n");
  }
  EXPECT_EQ(Closed(CloseReason::kProxyProtocolError), malformed.size());
}

TEST_F(ProxyProtocolTest, HalfAHeaderIsClosedAtTheReadTimeout) {
  constexpr int64_t kReadTimeoutNs = 300'000'000;
  StartServer(ProxyProtocolMode::kAny, {}, {}, kReadTimeoutNs);
  core::ScopedFd client = ConnectClient();
  const auto sent_at = Clock::now();
  ASSERT_TRUE(SendAll(client.get(), "PROXY TCP4 1.2", seconds(5)).ok());
  EXPECT_TRUE(ClosedByServer(client.get()));
  EXPECT_GE(MillisBetween(sent_at, Clock::now()), 250.0) << "closed before the read timeout";
  EXPECT_EQ(Closed(CloseReason::kReadTimeout), 1u);
  EXPECT_EQ(server_->active(), 0);
}

TEST_F(ProxyProtocolTest, PerSourceLimitAppliesToTheHeadersAddress) {
  StartServer(ProxyProtocolMode::kV2, {}, core::SourceLimits{1, 0});
  // Two clients behind the same proxy address (127.0.0.1), told apart by their headers.
  core::ScopedFd first = ConnectClient();
  core::ScopedFd second = ConnectClient();
  ASSERT_TRUE(SendAll(first.get(), ProxyV2("10.9.0.1:1", "10.0.0.1:80"), seconds(5)).ok());
  ASSERT_TRUE(SendAll(second.get(), ProxyV2("10.9.0.2:1", "10.0.0.1:80"), seconds(5)).ok());
  EXPECT_EQ(Ask(first.get(), "a\n", "10.9.0.1:1"), "10.9.0.1:1 a\n");
  EXPECT_EQ(Ask(second.get(), "b\n", "10.9.0.2:1"), "10.9.0.2:1 b\n");

  core::ScopedFd again = ConnectClient();
  ASSERT_TRUE(SendAll(again.get(), ProxyV2("10.9.0.1:2", "10.0.0.1:80"), seconds(5)).ok());
  EXPECT_TRUE(ClosedByServer(again.get())) << "a second connection from 10.9.0.1";
  EXPECT_EQ(Closed(CloseReason::kSourceLimit), 1u);
  EXPECT_EQ(Ask(first.get(), "c\n", "10.9.0.1:1"), "10.9.0.1:1 c\n");
}

TEST_F(ProxyProtocolTest, HandedOffConnectionsKeepTheHeadersAddress) {
  StartServer(ProxyProtocolMode::kAny, {}, {}, 0, 2, core::Balance::kLeastConnections);
  std::vector<core::ScopedFd> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(ConnectClient());
    const std::string source = "10.7.0." + std::to_string(i + 1) + ":100";
    ASSERT_TRUE(SendAll(clients.back().get(), ProxyV2(source, "10.0.0.1:80"), seconds(5)).ok());
    EXPECT_EQ(Ask(clients.back().get(), "q\n", source), source + " q\n");
  }
  EXPECT_TRUE(server_->Barrier());
  for (uint64_t accepted : server_->accepted_per_worker()) {
    EXPECT_GT(accepted, 0u) << "both workers serve: some connections were handed off";
  }
}

TEST_F(ProxyProtocolTest, DrainClosesConnectionsStillReadingTheirHeader) {
  StartServer(ProxyProtocolMode::kAny);
  core::ScopedFd waiting = ConnectClient();
  ASSERT_TRUE(SendAll(waiting.get(), "PROXY ", seconds(5)).ok());
  // A connection reading its header holds a slot of the connection count.
  ASSERT_TRUE(WaitFor([&] { return server_->server().open_connections() == 1; }, kTestDeadline));
  std::atomic<bool> drained{false};
  server_->server().Drain(core::MonotonicNowNs() + 5'000'000'000, [&] { drained = true; });
  EXPECT_TRUE(ClosedByServer(waiting.get()));
  EXPECT_TRUE(WaitFor([&] { return drained.load(); }, kTestDeadline));
  EXPECT_EQ(Closed(CloseReason::kShutdown), 1u);
}

}  // namespace
}  // namespace shoal::testing
