// Shared pieces of the fuzz targets (tests/fuzz/*_fuzzer.cc).
//
// Each target's body is an ordinary function, `int XFuzzOneInput(const uint8_t*, size_t)`, that
// checks its invariants with SHOAL_FUZZ_CHECK (report and abort, so libFuzzer records a crash and
// the gtest replay dies with the message). SHOAL_FUZZ_TARGET(function) defines libFuzzer's
// LLVMFuzzerTestOneInput only when the file is compiled by tools/fuzz/build.sh (which defines
// SHOAL_LIBFUZZER); under Bazel the same files are linked into //tests/fuzz:regression_test,
// which calls the functions directly.
#ifndef SHOAL_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define SHOAL_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define SHOAL_FUZZ_CHECK(condition)                                                        \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__,       \
                   #condition);                                                            \
      std::abort();                                                                        \
    }                                                                                      \
  } while (false)

#ifdef SHOAL_LIBFUZZER
#define SHOAL_FUZZ_TARGET(function)                                                   \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {           \
    return function(data, size);                                                      \
  }
#else
#define SHOAL_FUZZ_TARGET(function)
#endif

namespace shoal::fuzz {

int EchoDecoderFuzzOneInput(const uint8_t* data, size_t size);
int RequestParserFuzzOneInput(const uint8_t* data, size_t size);
int ConfigFuzzOneInput(const uint8_t* data, size_t size);
int RespFuzzOneInput(const uint8_t* data, size_t size);
int ProxyHeaderFuzzOneInput(const uint8_t* data, size_t size);

// The stream targets (echo decoder, request parser, RESP) read a fixed control block first:
//   byte 0      target-specific settings (limits)
//   bytes 1..7  piece lengths, used in turn: a byte b cuts a piece of b + 1 bytes (1..256)
// then the byte stream itself. An input shorter than the block is all control, empty stream.
inline constexpr size_t kControlBytes = 8;

struct StreamInput {
  uint8_t settings = 0;
  std::array<uint8_t, kControlBytes - 1> pieces{};
  std::string_view stream;
};

inline StreamInput SplitControl(const uint8_t* data, size_t size) {
  StreamInput input;
  const size_t control = size < kControlBytes ? size : kControlBytes;
  if (control > 0) input.settings = data[0];
  for (size_t i = 1; i < control; ++i) input.pieces[i - 1] = data[i];
  input.stream = std::string_view(reinterpret_cast<const char*>(data) + control, size - control);
  return input;
}

// Calls on_piece(std::string_view) for consecutive pieces of `stream` cut by `pieces`.
template <typename OnPiece>
void ForEachPiece(std::string_view stream, const std::array<uint8_t, kControlBytes - 1>& pieces,
                  OnPiece on_piece) {
  size_t next = 0;
  while (!stream.empty()) {
    const size_t length = std::min<size_t>(size_t{pieces[next]} + 1, stream.size());
    next = (next + 1) % pieces.size();
    if (!on_piece(stream.substr(0, length))) return;
    stream.remove_prefix(length);
  }
}

}  // namespace shoal::fuzz

#endif  // SHOAL_TESTS_FUZZ_FUZZ_SUPPORT_H_
