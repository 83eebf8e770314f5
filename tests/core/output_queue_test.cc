#include "core/output_queue.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

#include "core/socket.h"
#include <string>
#include <thread>

namespace shoal::core {
namespace {

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 random(seed);
  std::string bytes(n, '\0');
  for (auto& c : bytes) c = static_cast<char>(random());
  return bytes;
}

struct SocketPair {
  SocketPair() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    writer.reset(fds[0]);
    reader.reset(fds[1]);
  }
  // Writes `bytes` (small enough for the socket buffer) into the pair; returns them.
  std::string Written(std::string bytes) {
    EXPECT_EQ(write(writer.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    return bytes;
  }

  ScopedFd writer;
  ScopedFd reader;
};

std::string DrainReadable(int fd) {
  std::string out;
  char buffer[65536];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

TEST(OutputQueueTest, AppendTracksSizeInQueueAndPool) {
  ChunkPool pool;
  OutputQueue queue(&pool);
  EXPECT_TRUE(queue.empty());
  queue.Append("abc");
  queue.Append(std::string(40000, 'x'));  // spans three chunks
  EXPECT_EQ(queue.size(), 40003u);
  EXPECT_EQ(pool.queued_bytes(), 40003u);
  EXPECT_EQ(pool.chunks_in_use(), 3u);
  queue.Clear();
  EXPECT_EQ(pool.queued_bytes(), 0u);
  EXPECT_EQ(pool.chunks_in_use(), 0u);
  EXPECT_EQ(pool.free_chunks(), 3u);
}

TEST(OutputQueueTest, ChunksAreRecycledThroughThePool) {
  ChunkPool pool(2);
  {
    OutputQueue queue(&pool);
    queue.Append(std::string(5 * 16368 + 1, 'y'));  // 16368 payload bytes per chunk
    EXPECT_EQ(pool.chunks_in_use(), 6u);
  }
  EXPECT_EQ(pool.chunks_in_use(), 0u);
  EXPECT_EQ(pool.free_chunks(), 2u) << "the pool keeps at most max_free_chunks";
  OutputQueue queue(&pool);
  queue.Append("z");
  EXPECT_EQ(pool.free_chunks(), 1u) << "a free chunk is reused";
}

TEST(OutputQueueTest, PartialWritesResumeExactly) {
  SocketPair pair;
  int small = 4096;
  setsockopt(pair.writer.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  ChunkPool pool;
  OutputQueue queue(&pool);
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    std::string piece = RandomBytes(static_cast<size_t>(i * 997 % 30000), static_cast<uint32_t>(i));
    expected += piece;
    queue.Append(piece);
  }
  std::string received;
  int rounds = 0;
  while (!queue.empty()) {
    OutputQueue::WriteResult result = queue.WriteTo(pair.writer.get());
    ASSERT_EQ(result.error, 0);
    if (!queue.empty()) {
      EXPECT_TRUE(result.would_block);
    }
    received += DrainReadable(pair.reader.get());
    ++rounds;
    ASSERT_LT(rounds, 100000);
  }
  received += DrainReadable(pair.reader.get());
  EXPECT_GT(rounds, 5) << "the small send buffer should have forced partial writes";
  EXPECT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected);
  EXPECT_EQ(pool.queued_bytes(), 0u);
  EXPECT_EQ(pool.chunks_in_use(), 0u);
}

TEST(OutputQueueTest, MoreThanIovMaxChunksAreWrittenInOrder) {
  SocketPair pair;
  ChunkPool pool;
  OutputQueue queue(&pool);
  std::string expected = RandomBytes(1500 * 16368 + 123, 7);  // > IOV_MAX (1024) chunks
  queue.Append(expected);
  std::string received;
  std::thread reader([&] {
    pollfd p{pair.reader.get(), POLLIN, 0};
    while (received.size() < expected.size()) {
      if (poll(&p, 1, 5000) <= 0) break;
      received += DrainReadable(pair.reader.get());
    }
  });
  while (!queue.empty()) {
    OutputQueue::WriteResult result = queue.WriteTo(pair.writer.get());
    ASSERT_EQ(result.error, 0);
    if (result.would_block) {
      pollfd p{pair.writer.get(), POLLOUT, 0};
      poll(&p, 1, 1000);
    }
  }
  reader.join();
  EXPECT_TRUE(received == expected);
}

TEST(OutputQueueTest, WriteErrorIsReported) {
  SocketPair pair;
  pair.reader.reset();
  ChunkPool pool;
  OutputQueue queue(&pool);
  queue.Append("data");
  OutputQueue::WriteResult result = queue.WriteTo(pair.writer.get());
  EXPECT_EQ(result.error, EPIPE);
  EXPECT_EQ(queue.size(), 4u) << "nothing was written";
}

TEST(OutputQueueTest, AppendFromFdMovesSocketBytesIntoTheQueue) {
  SocketPair source;
  SocketPair sink;
  const std::string payload = source.Written(RandomBytes(50000, 3));
  ChunkPool pool;
  OutputQueue queue(&pool);
  queue.Append("head");
  long total = 0;
  while (total < 50000) {
    long n = queue.AppendFromFd(source.reader.get(), 50000 - static_cast<size_t>(total));
    ASSERT_GT(n, 0);
    total += n;
  }
  EXPECT_EQ(queue.size(), 50004u);
  EXPECT_EQ(pool.queued_bytes(), 50004u);
  errno = 0;
  EXPECT_EQ(queue.AppendFromFd(source.reader.get(), 100), -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(queue.size(), 50004u);
  source.writer.reset();
  EXPECT_EQ(queue.AppendFromFd(source.reader.get(), 100), 0) << "EOF";
  OutputQueue::WriteResult result = queue.WriteTo(sink.writer.get());
  EXPECT_EQ(result.written, 50004u);
  EXPECT_TRUE(DrainReadable(sink.reader.get()) == "head" + payload);
}

}  // namespace
}  // namespace shoal::core

namespace shoal::core {
namespace {

TEST(OutputQueueSpillTest, OneReadFillsTheQueueThenTheSpill) {
  SocketPair source;
  const std::string payload = source.Written(RandomBytes(30000, 11));
  ChunkPool pool;
  OutputQueue queue(&pool);
  queue.Append("head");  // the tail chunk has room: the read continues it
  char spill[65536];
  size_t spilled = 0;
  long n = queue.AppendFromFdWithSpill(source.reader.get(), 20000, spill, sizeof(spill), &spilled);
  ASSERT_EQ(n, 30000);
  EXPECT_EQ(spilled, 10000u);
  EXPECT_EQ(queue.size(), 20004u);
  EXPECT_EQ(pool.queued_bytes(), 20004u);
  EXPECT_TRUE(std::string(spill, spilled) == payload.substr(20000));
  SocketPair sink;
  OutputQueue::WriteResult result = queue.WriteTo(sink.writer.get());
  EXPECT_EQ(result.written, 20004u);
  EXPECT_TRUE(DrainReadable(sink.reader.get()) == "head" + payload.substr(0, 20000));
  EXPECT_EQ(pool.chunks_in_use(), 0u);
}

TEST(OutputQueueSpillTest, ShortReadQueuesWhatCameAndReturnsUnusedChunks) {
  SocketPair source;
  ASSERT_EQ(write(source.writer.get(), "abc", 3), 3);
  ChunkPool pool;
  OutputQueue queue(&pool);
  char spill[100];
  size_t spilled = 7;
  EXPECT_EQ(queue.AppendFromFdWithSpill(source.reader.get(), 50000, spill, sizeof(spill), &spilled),
            3);
  EXPECT_EQ(spilled, 0u);
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(pool.chunks_in_use(), 1u) << "chunks the read did not reach go back to the pool";
  errno = 0;
  EXPECT_EQ(queue.AppendFromFdWithSpill(source.reader.get(), 100, spill, sizeof(spill), &spilled),
            -1);
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(pool.chunks_in_use(), 1u);
}

}  // namespace
}  // namespace shoal::core
