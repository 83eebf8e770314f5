#include "core/buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace shoal::core {
namespace {

TEST(BufferTest, StartsWithoutStorage) {
  Buffer buffer;
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.capacity(), 0u);
  EXPECT_EQ(buffer.readable(), "");
}

TEST(BufferTest, AppendConsumeKeepsOrder) {
  Buffer buffer;
  buffer.Append("hello ");
  buffer.Append("world");
  EXPECT_EQ(buffer.readable(), "hello world");
  buffer.Consume(6);
  EXPECT_EQ(buffer.readable(), "world");
  buffer.Append("!");
  EXPECT_EQ(buffer.readable(), "world!");
  buffer.Consume(6);
  EXPECT_TRUE(buffer.empty());
}

TEST(BufferTest, CompactsBeforeGrowing) {
  Buffer buffer;
  buffer.Append(std::string(1000, 'a'));
  size_t capacity = buffer.capacity();
  buffer.Consume(900);
  buffer.Append(std::string(capacity - 200, 'b'));  // fits only after moving the 100 left
  EXPECT_EQ(buffer.capacity(), capacity);
  EXPECT_EQ(buffer.readable(), std::string(100, 'a') + std::string(capacity - 200, 'b'));
}

TEST(BufferTest, GrowsForLargeAppendAndKeepsBytes) {
  Buffer buffer;
  std::string big;
  for (int i = 0; i < 100000; ++i) big.push_back(static_cast<char>(i * 7));
  buffer.Append("x");
  buffer.Append(big);
  EXPECT_EQ(buffer.readable_bytes(), big.size() + 1);
  EXPECT_EQ(buffer.readable().substr(1), big);
}

TEST(BufferTest, WritableCommit) {
  Buffer buffer;
  buffer.EnsureWritable(10);
  ASSERT_GE(buffer.writable_bytes(), 10u);
  std::memcpy(buffer.writable_data(), "0123456789", 10);
  buffer.Commit(4);
  EXPECT_EQ(buffer.readable(), "0123");
}

TEST(BufferTest, ShrinkIfEmptyOnlyWhenEmptyAndLarge) {
  Buffer buffer;
  buffer.Append(std::string(200000, 'z'));
  buffer.ShrinkIfEmpty(65536);
  EXPECT_GT(buffer.capacity(), 0u) << "must not shrink while holding bytes";
  buffer.Consume(200000);
  buffer.ShrinkIfEmpty(65536);
  EXPECT_EQ(buffer.capacity(), 0u);
  buffer.Append("small");
  buffer.Consume(5);
  size_t small_capacity = buffer.capacity();
  buffer.ShrinkIfEmpty(65536);
  EXPECT_EQ(buffer.capacity(), small_capacity) << "small storage is kept for reuse";
}

}  // namespace
}  // namespace shoal::core
