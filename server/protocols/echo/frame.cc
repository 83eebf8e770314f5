#include "server/protocols/echo/frame.h"

namespace shoal::server {

EchoScan ScanEchoFrames(std::string_view input, uint64_t max_frame_bytes) {
  EchoScan scan;
  size_t position = 0;
  while (input.size() - position >= kEchoHeaderBytes) {
    uint32_t length = DecodeEchoLength(input.substr(position, kEchoHeaderBytes));
    if (length > max_frame_bytes) {
      scan.frame_too_large = true;
      scan.too_large_length = length;
      break;
    }
    size_t available = input.size() - position - kEchoHeaderBytes;
    if (available < length) {
      scan.payload_to_forward = length - available;
      scan.partial_frame_start = position;
      position = input.size();
      break;
    }
    position += kEchoHeaderBytes + length;
    ++scan.frames_completed;
  }
  scan.echo_bytes = position;
  return scan;
}

}  // namespace shoal::server
