#include "tests/support/echo_stream.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <utility>

#include "server/protocols/echo/echo_protocol.h"
#include "tests/support/echo_wire.h"

namespace shoal::testing {

namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

FrameStream::FrameStream(uint64_t seed, std::vector<uint32_t> payload_sizes)
    : seed_(SplitMix64(seed)), sizes_(std::move(payload_sizes)) {
  starts_.reserve(sizes_.size() + 1);
  uint64_t offset = 0;
  for (uint32_t size : sizes_) {
    starts_.push_back(offset);
    offset += server::kEchoHeaderBytes + size;
  }
  starts_.push_back(offset);
  total_ = offset;
}

FrameStream FrameStream::Random(uint64_t seed, size_t frames, uint32_t min_size,
                                uint32_t max_size) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<uint32_t> size(min_size, max_size);
  std::vector<uint32_t> sizes;
  sizes.reserve(frames);
  for (size_t i = 0; i < frames; ++i) sizes.push_back(size(rng));
  return FrameStream(seed, std::move(sizes));
}

FrameStream FrameStream::Fixed(uint64_t seed, uint32_t payload_size, uint64_t total_bytes) {
  uint64_t frame_bytes = server::kEchoHeaderBytes + payload_size;
  size_t frames = static_cast<size_t>((total_bytes + frame_bytes - 1) / frame_bytes);
  return FrameStream(seed, std::vector<uint32_t>(frames, payload_size));
}

uint64_t FrameStream::frame_start(size_t frame) const { return starts_[frame]; }

size_t FrameStream::FrameAt(uint64_t offset) const {
  // The last start <= offset (zero-length frames have distinct starts, 4 bytes apart).
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  return static_cast<size_t>(it - starts_.begin()) - 1;
}

bool FrameStream::IsFrameBoundary(uint64_t offset) const {
  return std::binary_search(starts_.begin(), starts_.end(), offset);
}

uint64_t FrameStream::FrameEnd(uint64_t offset) const { return starts_[FrameAt(offset) + 1]; }

void FrameStream::FillPayload(size_t frame, uint64_t index, char* out, size_t n) const {
  const uint64_t frame_key = SplitMix64(seed_ ^ (static_cast<uint64_t>(frame) << 1));
  while (n > 0) {
    uint64_t word = SplitMix64(frame_key + (index >> 3) * 0xD1B54A32D192ED03ull);
    size_t shift = static_cast<size_t>(index & 7);
    size_t take = std::min<size_t>(n, 8 - shift);
    for (size_t b = 0; b < take; ++b) {
      out[b] = static_cast<char>(word >> ((shift + b) * 8));
    }
    out += take;
    n -= take;
    index += take;
  }
}

void FrameStream::Fill(uint64_t offset, char* out, size_t n) const {
  if (n == 0) return;
  size_t frame = FrameAt(offset);
  while (n > 0) {
    uint64_t within = offset - starts_[frame];
    uint64_t frame_bytes = starts_[frame + 1] - starts_[frame];
    if (within >= frame_bytes) {
      ++frame;
      continue;
    }
    size_t take;
    if (within < server::kEchoHeaderBytes) {
      std::string header = EncodeFrameHeader(sizes_[frame]);
      take = std::min<size_t>(n, server::kEchoHeaderBytes - within);
      std::memcpy(out, header.data() + within, take);
    } else {
      take = static_cast<size_t>(std::min<uint64_t>(n, frame_bytes - within));
      FillPayload(frame, within - server::kEchoHeaderBytes, out, take);
    }
    out += take;
    offset += take;
    n -= take;
  }
}

size_t FrameStream::MatchPrefix(uint64_t offset, const char* data, size_t n) const {
  char expected[16 * 1024];
  size_t done = 0;
  while (done < n) {
    size_t take = std::min(n - done, sizeof(expected));
    Fill(offset + done, expected, take);
    if (std::memcmp(expected, data + done, take) != 0) {
      for (size_t i = 0; i < take; ++i) {
        if (expected[i] != data[done + i]) return done + i;
      }
    }
    done += take;
  }
  return n;
}

std::string FrameStream::Describe(uint64_t offset) const {
  if (offset >= total_) return "end of stream (offset " + std::to_string(offset) + ")";
  size_t frame = FrameAt(offset);
  uint64_t within = offset - starts_[frame];
  std::string where = within < server::kEchoHeaderBytes
                          ? "header byte " + std::to_string(within)
                          : "payload byte " + std::to_string(within - server::kEchoHeaderBytes);
  return "offset " + std::to_string(offset) + ": frame " + std::to_string(frame) + " of " +
         std::to_string(sizes_.size()) + " (payload " + std::to_string(sizes_[frame]) +
         " bytes), " + where;
}

}  // namespace shoal::testing
