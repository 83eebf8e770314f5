// The echo contract when a frame is cut short, over real sockets: a clean EOF follows only complete
// frames. A partial frame none of whose bytes was echoed is dropped and the server ends with FIN;
// one whose header and first payload bytes were already streamed back ends with a reset (RST), on
// the peer's FIN after the complete frames are written, and on a read timeout. And an oversized
// length whose header arrives in two reads is closed as frame_too_large, not read_timeout.
#include <sys/socket.h>

#include <memory>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "server/protocols/echo/echo_protocol.h"
#include "tests/integration/integration_bounds.h"
#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_wire.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

using core::CloseReason;

// Two complete frames, then the start of a third: its header (announcing 100 bytes) and 10 of them.
const std::string kComplete = EncodeFrame("first") + EncodeFrame("second frame");
const std::string kPartialFrame = EncodeFrameHeader(100) + std::string(10, 'p');

// Sends `bytes`, then FIN; returns what the client saw after reading exactly `expected_echo`.
End SendHalfCloseAndRead(TestServer& s, const std::string& bytes,
                         const std::string& expected_echo) {
  Deadline deadline = Deadline::In(kTestDeadline);
  auto fd = Connect(s.port(), deadline);
  EXPECT_TRUE(fd.ok()) << fd.status();
  if (!fd.ok()) return {};
  EXPECT_TRUE(SendAll(fd->get(), bytes, deadline).ok());
  EXPECT_EQ(shutdown(fd->get(), SHUT_WR), 0);
  auto echoed = ReadExactly(fd->get(), expected_echo.size(), deadline);
  EXPECT_TRUE(echoed.ok()) << echoed.status();
  if (echoed.ok()) {
    EXPECT_TRUE(*echoed == expected_echo) << "echo differs";
  }
  return ReadUntilEnd(fd->get(), deadline);
}

TEST(EchoTruncation, FinInsideAStreamedPayloadResetsAfterTheCompleteFrames) {
  TestServerOptions options;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  End end = SendHalfCloseAndRead(s, kComplete + kPartialFrame, kComplete);
  EXPECT_EQ(end.kind, End::Kind::kReset) << end.ToString();
  EXPECT_LE(end.data_bytes, kPartialFrame.size()) << end.ToString();

  ASSERT_TRUE(WaitFor([&] { return s.closed_total() == 1; }, seconds(5))) << s.StatsSummary();
  EXPECT_EQ(s.closed(CloseReason::kPeerClosed), 1u) << s.StatsSummary();
  EXPECT_EQ(s.requests(), 2u);
}

TEST(EchoTruncation, FinInsideAHeaderDropsThePartialFrameAndEndsWithFin) {
  TestServerOptions options;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  End end = SendHalfCloseAndRead(s, kComplete + kPartialFrame.substr(0, 3), kComplete);
  EXPECT_EQ(end.kind, End::Kind::kEof) << end.ToString();
  EXPECT_EQ(end.data_bytes, 0u) << end.ToString();

  ASSERT_TRUE(WaitFor([&] { return s.closed_total() == 1; }, seconds(5))) << s.StatsSummary();
  EXPECT_EQ(s.closed(CloseReason::kPeerClosed), 1u) << s.StatsSummary();
}

// Without streaming the partial frame stays buffered: none of it is echoed, so FIN is honest.
TEST(EchoTruncation, FinInsideABufferedPayloadDropsItAndEndsWithFin) {
  TestServerOptions options;
  options.factory = [](size_t, int) {
    server::EchoSettings settings = server::EchoSettingsFrom(server::Config::Default());
    settings.forward_partial_payloads = false;
    return std::make_unique<server::EchoProtocol>(settings);
  };
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  End end = SendHalfCloseAndRead(s, kComplete + kPartialFrame, kComplete);
  EXPECT_EQ(end.kind, End::Kind::kEof) << end.ToString();
  EXPECT_EQ(end.data_bytes, 0u) << end.ToString();
}

TEST(EchoTruncation, ReadTimeoutInsideAStreamedPayloadResets) {
  TestServerOptions options;
  options.settings.read_timeout_ns = 300'000'000;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  Deadline deadline = Deadline::In(kTestDeadline);
  ASSERT_OK_AND_ASSIGN(core::ScopedFd fd, Connect(s.port(), deadline));
  ASSERT_TRUE(SendAll(fd.get(), kComplete + kPartialFrame, deadline).ok());
  // The complete frames and the streamed start of the third all arrive; then the reset.
  auto echoed = ReadExactly(fd.get(), kComplete.size() + kPartialFrame.size(), deadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_TRUE(*echoed == kComplete + kPartialFrame) << "echo differs";
  End end = ReadUntilEnd(fd.get(), deadline);
  EXPECT_EQ(end.kind, End::Kind::kReset) << end.ToString();

  ASSERT_TRUE(WaitFor([&] { return s.closed_total() == 1; }, seconds(5))) << s.StatsSummary();
  EXPECT_EQ(s.closed(CloseReason::kReadTimeout), 1u) << s.StatsSummary();
}

TEST(EchoTruncation, OversizedLengthSplitAcrossTwoReadsIsFrameTooLarge) {
  TestServerOptions options;
  options.config.limits.max_frame_bytes = 1024;
  options.settings.read_timeout_ns = 300'000'000;
  ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
  TestServer& s = *server;

  Deadline deadline = Deadline::In(kTestDeadline);
  ASSERT_OK_AND_ASSIGN(core::ScopedFd fd, Connect(s.port(), deadline));
  const std::string header = EncodeFrameHeader(1 << 20);
  ASSERT_TRUE(SendAll(fd.get(), header.substr(0, 2), deadline).ok());
  ASSERT_TRUE(WaitFor([&] { return s.bytes_received() == 2; }, deadline)) << s.StatsSummary();
  // A slow client, not synchronisation: the header's second half comes 100 ms later, so the read
  // deadline its first half started falls well before the deadline of the close that follows.
  std::this_thread::sleep_for(milliseconds(100));
  ASSERT_TRUE(SendAll(fd.get(), header.substr(2), deadline).ok());

  End end = WaitForEndWithoutReading(fd.get(), deadline);
  EXPECT_EQ(end.kind, End::Kind::kEof) << end.ToString();
  // The client keeps its end open: the server closes it on its own deadline.
  ASSERT_TRUE(WaitFor([&] { return s.closed_total() == 1; }, seconds(5))) << s.StatsSummary();
  EXPECT_EQ(s.closed(CloseReason::kFrameTooLarge), 1u) << s.StatsSummary();
  EXPECT_EQ(s.closed(CloseReason::kReadTimeout), 0u) << s.StatsSummary();
}

}  // namespace
}  // namespace shoal::testing
