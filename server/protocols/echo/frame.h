// The echo protocol on the wire, without I/O: splitting a byte stream into frames (4-byte
// big-endian length N, then N bytes) without copying, and frame headers. Shared by the server,
// loadgen and the tests. Pure functions: any thread.
#ifndef SHOAL_SERVER_PROTOCOLS_ECHO_FRAME_H_
#define SHOAL_SERVER_PROTOCOLS_ECHO_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shoal::server {

// The listeners[].protocol and loadgen --protocol spelling.
inline constexpr std::string_view kEchoName = "echo";

inline constexpr size_t kEchoHeaderBytes = 4;

struct EchoScan {
  // Leading bytes of the input to echo back unchanged (and consume): the complete frames, then,
  // if a frame's payload has only partly arrived, its header and the payload bytes present.
  size_t echo_bytes = 0;
  // Complete frames within echo_bytes.
  uint64_t frames_completed = 0;
  // When echo_bytes ends inside a frame: how many of its payload bytes are still to come.
  uint64_t payload_to_forward = 0;
  // When payload_to_forward > 0: where that incomplete frame's header starts (the end of the
  // complete frames), for callers that keep the partial frame buffered instead of forwarding it.
  size_t partial_frame_start = 0;
  // A header announced more than max_frame_bytes; echo_bytes covers the frames before it.
  bool frame_too_large = false;
  uint32_t too_large_length = 0;
};

// Bytes after echo_bytes (fewer than kEchoHeaderBytes of a header, when not frame_too_large) must
// be presented again with more input appended. O(frames in input).
EchoScan ScanEchoFrames(std::string_view input, uint64_t max_frame_bytes);

// Decodes a frame header: the big-endian payload length.
inline uint32_t DecodeEchoLength(std::string_view header) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(header.data());
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

// Appends the header of a frame of `length` payload bytes.
inline void AppendEchoHeader(uint32_t length, std::string& out) {
  const char header[kEchoHeaderBytes] = {static_cast<char>(length >> 24),
                                         static_cast<char>(length >> 16),
                                         static_cast<char>(length >> 8), static_cast<char>(length)};
  out.append(header, kEchoHeaderBytes);
}

}  // namespace shoal::server

#endif  // SHOAL_SERVER_PROTOCOLS_ECHO_FRAME_H_
