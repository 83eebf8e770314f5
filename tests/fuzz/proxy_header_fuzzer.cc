// Fuzz target: shoal::core::DecodeProxyHeader, driven the way core::ProxyHeaderReader drives it:
// the connection's first bytes arrive in fuzzer-chosen pieces and every time the whole of what
// arrived so far (at most kMaxProxyHeaderBytes, what one peek returns) is decoded again.
//
// Input: the control block of fuzz_support.h (byte 0 picks the listener's mode: v1, v2 or any),
// then the stream. Invariants:
//  * decoding reads nothing outside its input (an exact-size heap copy, for ASan);
//  * kNeedMore only while fewer than kMaxProxyHeaderBytes arrived (a full peek always decides,
//    so a reader never waits for bytes that cannot come);
//  * the first decided answer is final: more bytes never change a verdict, a length or an
//    address (the reader consumes exactly that length);
//  * a complete header lies within the bytes seen and its bounds (107 bytes for v1, 16 + 1024
//    for v2); a v1 header ends in CRLF; TLV views point inside the header; at most kMaxProxyTlvs;
//    source and destination come together, of one IP family, and never with LOCAL;
//  * a malformed verdict has a reason.
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/proxy_header.h"
#include "tests/fuzz/fuzz_support.h"

namespace shoal::fuzz {
namespace {

using core::ProxyDecodeResult;
using core::ProxyProtocolMode;
using Status = ProxyDecodeResult::Status;

constexpr ProxyProtocolMode kModes[] = {ProxyProtocolMode::kV1, ProxyProtocolMode::kV2,
                                        ProxyProtocolMode::kAny};

bool Within(std::string_view part, const char* begin, size_t length) {
  return part.empty() || (part.data() >= begin && part.data() + part.size() <= begin + length);
}

// What must agree between the first decided answer and every later one.
struct Verdict {
  Status status = Status::kNeedMore;
  size_t length = 0;
  std::string source;
  std::string destination;
  bool operator==(const Verdict&) const = default;
};

Verdict Decode(std::string_view received, ProxyProtocolMode mode) {
  std::unique_ptr<char[]> copy(new char[received.size() + 1]);
  if (!received.empty()) std::memcpy(copy.get(), received.data(), received.size());
  const std::string_view input(copy.get(), received.size());
  const ProxyDecodeResult result = core::DecodeProxyHeader(input, mode);

  Verdict verdict;
  verdict.status = result.status;
  switch (result.status) {
    case Status::kNeedMore:
      SHOAL_FUZZ_CHECK(input.size() < core::kMaxProxyHeaderBytes);
      return verdict;
    case Status::kMalformed:
      SHOAL_FUZZ_CHECK(!result.error.empty());
      return verdict;
    case Status::kComplete:
      break;
  }
  const core::ProxyHeader& header = result.header;
  SHOAL_FUZZ_CHECK(header.length > 0 && header.length <= input.size());
  SHOAL_FUZZ_CHECK(header.length <= core::kMaxProxyHeaderBytes);
  if (header.version == 1) {
    SHOAL_FUZZ_CHECK(mode != ProxyProtocolMode::kV2);
    SHOAL_FUZZ_CHECK(header.length <= core::kMaxProxyV1HeaderBytes);
    SHOAL_FUZZ_CHECK(input.substr(0, 6) == "PROXY ");
    SHOAL_FUZZ_CHECK(input.substr(header.length - 2, 2) == "\r\n");
    SHOAL_FUZZ_CHECK(header.tlvs.count == 0);
  } else {
    SHOAL_FUZZ_CHECK(header.version == 2);
    SHOAL_FUZZ_CHECK(mode != ProxyProtocolMode::kV1);
    SHOAL_FUZZ_CHECK(header.length >= core::kProxyV2FixedBytes);
  }
  const std::string_view kept[] = {header.tlvs.alpn, header.tlvs.authority,
                                   header.tlvs.unique_id, header.tlvs.ssl};
  for (std::string_view value : kept) {
    SHOAL_FUZZ_CHECK(Within(value, input.data(), header.length));
  }
  SHOAL_FUZZ_CHECK(header.tlvs.unique_id.size() <= 128);
  SHOAL_FUZZ_CHECK(header.tlvs.count <= core::kMaxProxyTlvs);
  SHOAL_FUZZ_CHECK(header.source.has_value() == header.destination.has_value());
  if (header.source.has_value()) {
    SHOAL_FUZZ_CHECK(!header.local);
    const int family = header.source->family();
    SHOAL_FUZZ_CHECK(family == AF_INET || family == AF_INET6);
    SHOAL_FUZZ_CHECK(header.destination->family() == family);
    verdict.source = header.source->ToString();
    verdict.destination = header.destination->ToString();
  }
  verdict.length = header.length;
  return verdict;
}

}  // namespace

int ProxyHeaderFuzzOneInput(const uint8_t* data, size_t size) {
  const StreamInput input = SplitControl(data, size);
  const ProxyProtocolMode mode = kModes[input.settings % 3];
  const std::string_view stream = input.stream.substr(0, core::kMaxProxyHeaderBytes);
  const Verdict whole = Decode(stream, mode);

  std::optional<Verdict> decided;
  size_t received = 0;
  ForEachPiece(stream, input.pieces, [&](std::string_view piece) {
    received += piece.size();
    const Verdict now = Decode(stream.substr(0, received), mode);
    if (decided.has_value()) {
      SHOAL_FUZZ_CHECK(now == *decided);
    } else if (now.status != Status::kNeedMore) {
      decided = now;
    }
    return true;
  });
  if (decided.has_value()) {
    SHOAL_FUZZ_CHECK(whole == *decided);
  } else {
    SHOAL_FUZZ_CHECK(whole.status == Status::kNeedMore);
  }
  return 0;
}

}  // namespace shoal::fuzz

SHOAL_FUZZ_TARGET(shoal::fuzz::ProxyHeaderFuzzOneInput)
