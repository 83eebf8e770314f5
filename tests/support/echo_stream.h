// A deterministic stream of echo frames: frame k has payload_sizes[k] bytes of pseudo-random data
// derived from (seed, k, byte index), so every frame's bytes differ and any byte range of the
// stream (headers included) can be regenerated at any time: a test can verify gigabytes without
// keeping them. Immutable after construction; safe to share between threads.
#ifndef SHOAL_TESTS_SUPPORT_ECHO_STREAM_H_
#define SHOAL_TESTS_SUPPORT_ECHO_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace shoal::testing {

class FrameStream {
 public:
  FrameStream() = default;
  FrameStream(uint64_t seed, std::vector<uint32_t> payload_sizes);
  // `frames` frames with payload sizes uniform in [min_size, max_size].
  static FrameStream Random(uint64_t seed, size_t frames, uint32_t min_size, uint32_t max_size);
  // Frames of `payload_size` bytes until the stream holds at least `total_bytes`.
  static FrameStream Fixed(uint64_t seed, uint32_t payload_size, uint64_t total_bytes);

  uint64_t size() const { return total_; }
  size_t frame_count() const { return sizes_.size(); }
  uint32_t payload_size(size_t frame) const { return sizes_[frame]; }
  // Offset where `frame` starts (its header); frame_count() gives size().
  uint64_t frame_start(size_t frame) const;
  // The frame containing byte `offset` (offset < size()).
  size_t FrameAt(uint64_t offset) const;
  bool IsFrameBoundary(uint64_t offset) const;
  // End offset of the frame containing `offset`.
  uint64_t FrameEnd(uint64_t offset) const;

  // Writes stream bytes [offset, offset + n) to out; offset + n <= size().
  void Fill(uint64_t offset, char* out, size_t n) const;
  // How many leading bytes of data[0, n) equal the stream at `offset` (n when all do).
  size_t MatchPrefix(uint64_t offset, const char* data, size_t n) const;
  // "frame 12 (payload 4000 bytes) payload byte 17" for messages.
  std::string Describe(uint64_t offset) const;

 private:
  void FillPayload(size_t frame, uint64_t index, char* out, size_t n) const;

  uint64_t seed_ = 0;
  std::vector<uint32_t> sizes_;
  std::vector<uint64_t> starts_;  // starts_[k] = offset of frame k; starts_.back() == total_
  uint64_t total_ = 0;
};

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_ECHO_STREAM_H_
