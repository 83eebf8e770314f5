#include "tests/support/echo_wire.h"

namespace shoal::testing {

std::string EncodeFrameHeader(uint32_t length) {
  std::string header(4, '\0');
  header[0] = static_cast<char>(length >> 24);
  header[1] = static_cast<char>(length >> 16);
  header[2] = static_cast<char>(length >> 8);
  header[3] = static_cast<char>(length);
  return header;
}

std::string EncodeFrame(std::string_view payload) {
  std::string frame = EncodeFrameHeader(static_cast<uint32_t>(payload.size()));
  frame.append(payload.data(), payload.size());
  return frame;
}

uint32_t DecodeFrameLength(std::string_view header) {
  const auto* b = reinterpret_cast<const unsigned char*>(header.data());
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

}  // namespace shoal::testing
