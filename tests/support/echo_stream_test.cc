// Self-tests of the echo test support: the frame stream is consistent at any offset, and the
// echo driver does notice a corrupted, reordered or truncated echo (so a passing integration test
// means something).
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/protocols/echo/echo_protocol.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_client.h"
#include "tests/support/echo_stream.h"

namespace shoal::testing {
namespace {

TEST(FrameStreamTest, FillIsConsistentAtAnySplitAndFramesDecode) {
  FrameStream stream = FrameStream::Random(9, 50, 0, 3000);
  std::string whole(stream.size(), '\0');
  stream.Fill(0, whole.data(), whole.size());
  // Piecewise fills at odd split points give the same bytes.
  std::string pieces;
  for (uint64_t offset = 0; offset < stream.size();) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(1 + offset % 977, stream.size() - offset));
    std::string part(n, '\0');
    stream.Fill(offset, part.data(), n);
    pieces += part;
    offset += n;
  }
  EXPECT_TRUE(pieces == whole);
  // Walking the headers recovers the frame sizes and boundaries.
  uint64_t offset = 0;
  for (size_t k = 0; k < stream.frame_count(); ++k) {
    ASSERT_TRUE(stream.IsFrameBoundary(offset));
    EXPECT_EQ(server::DecodeEchoLength(std::string_view(whole).substr(offset, 4)),
              stream.payload_size(k));
    offset += 4 + stream.payload_size(k);
  }
  EXPECT_EQ(offset, stream.size());
  EXPECT_EQ(stream.MatchPrefix(0, whole.data(), whole.size()), whole.size());
  whole[whole.size() / 2] ^= 1;
  EXPECT_EQ(stream.MatchPrefix(0, whole.data(), whole.size()), whole.size() / 2);
}

TEST(FrameStreamTest, EqualSizedFramesCarryDifferentBytes) {
  FrameStream stream(1, {64, 64});
  std::string a(64, '\0'), b(64, '\0');
  stream.Fill(4, a.data(), 64);
  stream.Fill(72, b.data(), 64);
  EXPECT_NE(a, b);
  FrameStream other(2, {64, 64});
  std::string c(64, '\0');
  other.Fill(4, c.data(), 64);
  EXPECT_NE(a, c);
}

// Runs the driver against a fake server on a socketpair that echoes through `mangle`.
EchoDriver::Conn RunAgainstFakeEcho(const FrameStream& stream,
                                    std::function<void(std::string&, uint64_t)> mangle,
                                    uint64_t close_after = UINT64_MAX) {
  int pair[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  core::ScopedFd client(pair[0]);
  core::ScopedFd fake(pair[1]);
  std::thread echo([&] {
    char buffer[8192];
    uint64_t offset = 0;
    for (;;) {
      ssize_t n = read(fake.get(), buffer, sizeof(buffer));
      if (n <= 0) break;
      std::string chunk(buffer, static_cast<size_t>(n));
      mangle(chunk, offset);
      if (offset + chunk.size() > close_after) chunk.resize(close_after - offset);
      if (!SendAll(fake.get(), chunk, Deadline::In(std::chrono::seconds(10))).ok()) break;
      offset += static_cast<uint64_t>(n);
      if (offset >= close_after) break;
    }
    shutdown(fake.get(), SHUT_RDWR);
  });
  EchoDriver driver;
  driver.Add(client.get(), stream);
  driver.Run(Deadline::In(std::chrono::seconds(10)));
  shutdown(client.get(), SHUT_RDWR);
  echo.join();
  return driver.conn(0);
}

TEST(EchoDriverTest, AcceptsAnExactEcho) {
  FrameStream stream = FrameStream::Random(3, 40, 0, 20000);
  EchoDriver::Conn c = RunAgainstFakeEcho(stream, [](std::string&, uint64_t) {});
  EXPECT_FALSE(c.failed()) << c.failure;
  EXPECT_EQ(c.received, stream.size());
}

TEST(EchoDriverTest, DetectsOneFlippedByte) {
  FrameStream stream = FrameStream::Random(3, 40, 0, 20000);
  const uint64_t target = stream.size() * 2 / 3;
  EchoDriver::Conn c = RunAgainstFakeEcho(stream, [&](std::string& chunk, uint64_t offset) {
    if (target >= offset && target < offset + chunk.size()) chunk[target - offset] ^= 0x40;
  });
  EXPECT_FALSE(c.failure.empty());
  EXPECT_NE(c.failure.find("offset " + std::to_string(target)), std::string::npos) << c.failure;
}

TEST(EchoDriverTest, DetectsSwappedBytes) {
  FrameStream stream = FrameStream::Random(4, 40, 100, 20000);
  EchoDriver::Conn c = RunAgainstFakeEcho(stream, [](std::string& chunk, uint64_t offset) {
    if (offset == 0 && chunk.size() > 10) std::swap(chunk[8], chunk[9]);
  });
  EXPECT_FALSE(c.failure.empty());
}

TEST(EchoDriverTest, ReportsATruncatedEchoAsIncomplete) {
  FrameStream stream = FrameStream::Random(5, 40, 100, 20000);
  EchoDriver::Conn c =
      RunAgainstFakeEcho(stream, [](std::string&, uint64_t) {}, stream.frame_start(7) + 10);
  EXPECT_TRUE(c.eof);
  EXPECT_LT(c.received, stream.size());
  EXPECT_FALSE(stream.IsFrameBoundary(c.received));
}

}  // namespace
}  // namespace shoal::testing
