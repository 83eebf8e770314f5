// Fuzz target: shoal::server::ScanEchoFrames, driven the way core::Connection and EchoSession
// drive it (server/protocols/echo.cc): the stream arrives in fuzzer-chosen pieces, unconsumed
// bytes (a partial header) are kept and presented again with the next piece, announced payload
// bytes (ForwardInput) go straight to the output, and a too-large header closes the connection.
//
// Input: the control block of fuzz_support.h (byte 0 picks max_frame_bytes), then the stream.
// Invariants, against an independent walk over the whole stream:
//  * the scan of the whole stream agrees with the walk (frames, echo_bytes, payload_to_forward,
//    frame_too_large and its length);
//  * the output is always a byte-exact prefix of the input; whenever nothing is being forwarded it
//    ends on a frame boundary and the frames counted are the frames it holds; while forwarding,
//    output plus the bytes still to forward end exactly at the current frame's end;
//  * bytes kept between pieces are fewer than a header; nothing is kept while forwarding;
//  * at the end: output = every complete frame, plus the header and present payload of a frame
//    cut short, or the frames before a too-large header (and nothing after it).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/protocols/echo/frame.h"
#include "tests/fuzz/fuzz_support.h"

namespace shoal::fuzz {
namespace {

constexpr uint64_t kMaxFrameChoices[] = {
    0, 1, 3, 4, 5, 16, 255, 1024, 65536, uint64_t{1} << 20, uint64_t{1} << 30,
    UINT32_MAX - 1, UINT32_MAX, UINT64_MAX,
};
constexpr size_t kChoices = sizeof(kMaxFrameChoices) / sizeof(kMaxFrameChoices[0]);

uint64_t MaxFrameBytes(uint8_t settings) {
  // Mostly the table (edge values around the header and 32-bit lengths); otherwise the byte
  // itself, so small limits near typical frame sizes are covered too.
  return settings < 2 * kChoices ? kMaxFrameChoices[settings % kChoices] : settings;
}

// The stream walked frame by frame, written independently of the decoder.
struct Walk {
  std::vector<size_t> frame_ends;  // end offset of each frame, complete or (last) cut short
  size_t complete_frames = 0;
  size_t echo_end = 0;  // what a connection has echoed once the whole stream arrived
  bool too_large = false;
  uint32_t too_large_length = 0;
  bool cut_short = false;  // the stream ends inside a payload
  uint64_t cut_short_missing = 0;
};

Walk WalkFrames(std::string_view stream, uint64_t max_frame_bytes) {
  Walk walk;
  size_t at = 0;
  while (true) {
    if (stream.size() - at < 4) {
      walk.echo_end = at;
      return walk;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(stream.data() + at);
    const uint32_t length = static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
                            static_cast<uint32_t>(p[2]) << 8 | static_cast<uint32_t>(p[3]);
    if (length > max_frame_bytes) {
      walk.too_large = true;
      walk.too_large_length = length;
      walk.echo_end = at;
      return walk;
    }
    const uint64_t end = uint64_t{at} + 4 + length;
    walk.frame_ends.push_back(static_cast<size_t>(std::min<uint64_t>(end, SIZE_MAX)));
    if (end > stream.size()) {
      walk.cut_short = true;
      walk.cut_short_missing = end - stream.size();
      walk.echo_end = stream.size();
      return walk;
    }
    at = static_cast<size_t>(end);
    ++walk.complete_frames;
  }
}

// ScanEchoFrames on an exact-size heap copy, so that ASan sees any read past the input.
server::EchoScan Scan(std::string_view input, uint64_t max_frame_bytes) {
  std::unique_ptr<char[]> copy(new char[input.size() + 1]);
  if (!input.empty()) std::memcpy(copy.get(), input.data(), input.size());
  return server::ScanEchoFrames(std::string_view(copy.get(), input.size()), max_frame_bytes);
}

void CheckWholeScan(std::string_view stream, uint64_t max_frame_bytes, const Walk& walk) {
  const server::EchoScan scan = Scan(stream, max_frame_bytes);
  SHOAL_FUZZ_CHECK(scan.frames_completed == walk.complete_frames);
  SHOAL_FUZZ_CHECK(scan.echo_bytes == walk.echo_end);
  SHOAL_FUZZ_CHECK(scan.echo_bytes <= stream.size());
  SHOAL_FUZZ_CHECK(scan.frame_too_large == walk.too_large);
  if (walk.too_large) {
    SHOAL_FUZZ_CHECK(scan.too_large_length == walk.too_large_length);
    SHOAL_FUZZ_CHECK(scan.too_large_length > max_frame_bytes);
    SHOAL_FUZZ_CHECK(scan.payload_to_forward == 0);
  } else if (walk.cut_short) {
    SHOAL_FUZZ_CHECK(scan.payload_to_forward == walk.cut_short_missing);
    SHOAL_FUZZ_CHECK(scan.payload_to_forward > 0);
  } else {
    SHOAL_FUZZ_CHECK(scan.payload_to_forward == 0);
    SHOAL_FUZZ_CHECK(stream.size() - scan.echo_bytes < server::kEchoHeaderBytes);
  }
}

// One connection: what EchoSession::OnData and Connection's forwarding path do with the pieces.
void CheckConnection(const StreamInput& input, uint64_t max_frame_bytes, const Walk& walk) {
  const std::string_view stream = input.stream;
  std::string output;
  std::string pending;  // unconsumed input (Connection::input_)
  uint64_t forward = 0;
  uint64_t frames = 0;
  bool closed = false;
  size_t received = 0;

  auto check_state = [&] {
    SHOAL_FUZZ_CHECK(output.size() <= received);
    if (forward > 0) {
      SHOAL_FUZZ_CHECK(pending.empty());
      SHOAL_FUZZ_CHECK(frames < walk.frame_ends.size());
      SHOAL_FUZZ_CHECK(output.size() + forward == walk.frame_ends[frames]);
    } else if (!closed) {
      SHOAL_FUZZ_CHECK(frames <= walk.complete_frames);
      SHOAL_FUZZ_CHECK(output.size() == (frames == 0 ? 0 : walk.frame_ends[frames - 1]));
      SHOAL_FUZZ_CHECK(pending.size() < server::kEchoHeaderBytes);
      SHOAL_FUZZ_CHECK(output.size() + pending.size() == received);
    }
  };
  auto emit = [&](std::string_view bytes) {
    // Output stays a byte-exact prefix of the input: compare just the new bytes.
    SHOAL_FUZZ_CHECK(output.size() + bytes.size() <= stream.size());
    SHOAL_FUZZ_CHECK(stream.substr(output.size(), bytes.size()) == bytes);
    output.append(bytes);
  };

  ForEachPiece(stream, input.pieces, [&](std::string_view piece) {
    received += piece.size();
    if (forward > 0) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(forward, piece.size()));
      emit(piece.substr(0, take));
      piece.remove_prefix(take);
      forward -= take;
      if (forward == 0) ++frames;  // EchoSession::OnForwardComplete
    }
    pending.append(piece);
    if (forward == 0 && !pending.empty()) {
      const server::EchoScan scan = Scan(pending, max_frame_bytes);
      SHOAL_FUZZ_CHECK(scan.echo_bytes <= pending.size());
      emit(std::string_view(pending).substr(0, scan.echo_bytes));
      frames += scan.frames_completed;
      if (scan.frame_too_large) {
        SHOAL_FUZZ_CHECK(walk.too_large);
        SHOAL_FUZZ_CHECK(scan.too_large_length == walk.too_large_length);
        closed = true;
        check_state();
        return false;  // CloseAfterFlush: nothing more is read
      }
      if (scan.payload_to_forward > 0) {
        // ForwardInput may only be called when all of the input is consumed.
        SHOAL_FUZZ_CHECK(scan.echo_bytes == pending.size());
        forward = scan.payload_to_forward;
      }
      pending.erase(0, scan.echo_bytes);
    }
    check_state();
    return true;
  });

  SHOAL_FUZZ_CHECK(frames == walk.complete_frames);
  SHOAL_FUZZ_CHECK(output.size() == walk.echo_end);
  SHOAL_FUZZ_CHECK(closed == walk.too_large);
  if (walk.cut_short) SHOAL_FUZZ_CHECK(forward == walk.cut_short_missing);
  if (!walk.cut_short && !walk.too_large) {
    SHOAL_FUZZ_CHECK(forward == 0);
    SHOAL_FUZZ_CHECK(pending == stream.substr(walk.echo_end));
  }
}

}  // namespace

int EchoDecoderFuzzOneInput(const uint8_t* data, size_t size) {
  const StreamInput input = SplitControl(data, size);
  const uint64_t max_frame_bytes = MaxFrameBytes(input.settings);
  const Walk walk = WalkFrames(input.stream, max_frame_bytes);
  CheckWholeScan(input.stream, max_frame_bytes, walk);
  CheckConnection(input, max_frame_bytes, walk);
  return 0;
}

}  // namespace shoal::fuzz

SHOAL_FUZZ_TARGET(shoal::fuzz::EchoDecoderFuzzOneInput)
