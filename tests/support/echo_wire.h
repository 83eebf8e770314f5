// The echo protocol's wire format as a client writes it: a 4-byte big-endian length, then that
// many bytes. Pure functions, no I/O.
#ifndef SHOAL_TESTS_SUPPORT_ECHO_WIRE_H_
#define SHOAL_TESTS_SUPPORT_ECHO_WIRE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace shoal::testing {

std::string EncodeFrameHeader(uint32_t length);
std::string EncodeFrame(std::string_view payload);
// The length a 4-byte header announces (header.size() >= 4).
uint32_t DecodeFrameLength(std::string_view header);

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_ECHO_WIRE_H_
