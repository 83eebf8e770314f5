#include "server/protocols/echo/frame.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace shoal::server {
namespace {

std::string Frame(const std::string& payload) {
  uint32_t length = htonl(static_cast<uint32_t>(payload.size()));
  std::string frame(reinterpret_cast<const char*>(&length), 4);
  return frame + payload;
}

// Plays the role of core::Connection: keeps unconsumed bytes, echoes what the scan says, and
// passes announced payload bytes straight through, as the connection's forwarding path does.
struct Result {
  std::string echoed;
  uint64_t frames = 0;
  bool too_large = false;
};

Result Feed(const std::string& stream, const std::vector<size_t>& cuts, uint64_t max_frame) {
  Result result;
  std::string pending;
  uint64_t forward = 0;
  size_t start = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    std::string_view piece(stream.data() + start, end - start);
    start = end;
    if (forward > 0) {
      size_t take = static_cast<size_t>(std::min<uint64_t>(forward, piece.size()));
      result.echoed.append(piece.substr(0, take));
      piece.remove_prefix(take);
      forward -= take;
      if (forward == 0) ++result.frames;
    }
    pending.append(piece);
    if (forward > 0 || pending.empty()) continue;
    EchoScan scan = ScanEchoFrames(pending, max_frame);
    result.echoed.append(pending, 0, scan.echo_bytes);
    result.frames += scan.frames_completed;
    if (scan.frame_too_large) {
      result.too_large = true;
      return result;
    }
    forward = scan.payload_to_forward;
    pending.erase(0, scan.echo_bytes);
  }
  return result;
}

std::string ExampleStream(std::mt19937& random, int frames, size_t max_size, uint64_t* count) {
  std::string stream;
  for (int i = 0; i < frames; ++i) {
    std::string payload(random() % (max_size + 1), '\0');
    for (auto& c : payload) c = static_cast<char>(random());
    stream += Frame(payload);
  }
  stream += Frame("");
  *count = static_cast<uint64_t>(frames) + 1;
  return stream;
}

TEST(EchoDecoderTest, WholeStreamAtOnce) {
  std::string stream = Frame("hello") + Frame("") + Frame(std::string(1000, 'x'));
  EchoScan scan = ScanEchoFrames(stream, 1 << 20);
  EXPECT_EQ(scan.echo_bytes, stream.size());
  EXPECT_EQ(scan.frames_completed, 3u);
  EXPECT_EQ(scan.payload_to_forward, 0u);
  EXPECT_FALSE(scan.frame_too_large);
}

TEST(EchoDecoderTest, PartialHeaderIsLeftUnconsumed) {
  std::string stream = Frame("ab") + std::string("\0\0", 2);
  EchoScan scan = ScanEchoFrames(stream, 100);
  EXPECT_EQ(scan.echo_bytes, 6u);
  EXPECT_EQ(scan.frames_completed, 1u);
}

TEST(EchoDecoderTest, PartialPayloadIsEchoedAndTheRestForwarded) {
  std::string stream = Frame("abc") + Frame("0123456789").substr(0, 7);
  EchoScan scan = ScanEchoFrames(stream, 100);
  EXPECT_EQ(scan.echo_bytes, stream.size());
  EXPECT_EQ(scan.frames_completed, 1u);
  EXPECT_EQ(scan.payload_to_forward, 7u);
  EXPECT_EQ(scan.partial_frame_start, 7u) << "the partial frame's header follows Frame(\"abc\")";
}

TEST(EchoDecoderTest, LengthLimitIsExact) {
  EXPECT_FALSE(ScanEchoFrames(Frame(std::string(100, 'a')), 100).frame_too_large);
  EchoScan scan = ScanEchoFrames(Frame("ok") + Frame(std::string(101, 'a')), 100);
  EXPECT_TRUE(scan.frame_too_large);
  EXPECT_EQ(scan.too_large_length, 101u);
  EXPECT_EQ(scan.echo_bytes, 6u) << "the frames before the bad one are still answered";
  EXPECT_EQ(scan.frames_completed, 1u);
  // Detected from the header alone, before any payload byte.
  std::string header = Frame(std::string(101, 'a')).substr(0, 4);
  EXPECT_TRUE(ScanEchoFrames(header, 100).frame_too_large);
  EXPECT_TRUE(ScanEchoFrames(std::string("\xff\xff\xff\xff", 4), 1u << 30).frame_too_large);
}

TEST(EchoDecoderTest, EverySplitPointGivesTheSameEcho) {
  std::mt19937 random(1);
  uint64_t count = 0;
  std::string stream = ExampleStream(random, 12, 40, &count);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    Result result = Feed(stream, {cut}, 1000);
    ASSERT_EQ(result.echoed, stream) << "split at " << cut;
    ASSERT_EQ(result.frames, count) << "split at " << cut;
  }
  for (size_t a = 0; a <= stream.size(); a += 3) {
    for (size_t b = a; b <= stream.size(); b += 5) {
      Result result = Feed(stream, {a, b}, 1000);
      ASSERT_EQ(result.echoed, stream) << "splits at " << a << "," << b;
      ASSERT_EQ(result.frames, count);
    }
  }
}

TEST(EchoDecoderTest, RandomSplitsGiveTheSameEcho) {
  std::mt19937 random(2);
  for (int round = 0; round < 300; ++round) {
    uint64_t count = 0;
    std::string stream = ExampleStream(random, 1 + static_cast<int>(random() % 30), 3000, &count);
    std::vector<size_t> cuts;
    size_t at = 0;
    while (true) {
      at += 1 + random() % (round % 2 == 0 ? 7 : 2000);
      if (at >= stream.size()) break;
      cuts.push_back(at);
    }
    Result result = Feed(stream, cuts, 3000);
    ASSERT_EQ(result.frames, count) << "round " << round;
    ASSERT_TRUE(result.echoed == stream) << "round " << round;
    ASSERT_FALSE(result.too_large);
  }
}

TEST(EchoDecoderTest, OversizeFrameIsFoundAtEverySplitPoint) {
  std::string stream = Frame("a") + Frame("bb") + Frame(std::string(50, 'c')) + Frame("d");
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    Result result = Feed(stream, {cut}, 49);
    ASSERT_TRUE(result.too_large) << "split at " << cut;
    ASSERT_EQ(result.echoed, Frame("a") + Frame("bb")) << "split at " << cut;
    ASSERT_EQ(result.frames, 2u);
  }
}

}  // namespace
}  // namespace shoal::server
