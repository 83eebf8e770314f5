// Buffer growth under a cap (core/buffer.h): doubling stops at the cap, but a request for more
// than the cap is still met exactly.
#include <string>

#include "core/buffer.h"
#include "gtest/gtest.h"

namespace shoal::core {
namespace {

TEST(BufferCapTest, DoublingStopsAtTheCap) {
  Buffer buffer;
  buffer.Append(std::string(1000, 'a'));
  buffer.EnsureWritable(100, 1500);
  EXPECT_EQ(buffer.capacity(), 1500u);
  buffer.Commit(100);
  buffer.EnsureWritable(1000, 1500);
  EXPECT_EQ(buffer.capacity(), 2100u);
}

TEST(BufferCapTest, WithoutACapItStillDoubles) {
  Buffer buffer;
  buffer.Append(std::string(1024, 'a'));
  buffer.EnsureWritable(1);
  EXPECT_EQ(buffer.capacity(), 2048u);
}

}  // namespace
}  // namespace shoal::core
