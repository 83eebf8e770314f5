#include "server/protocols/http/request_parser.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>

namespace shoal::http {
namespace {

constexpr size_t kNoLineFeed = std::string_view::npos;
constexpr size_t kMaxChunkSizeDigits = 16;

using CharSet = std::array<bool, 256>;

template <typename Predicate>
constexpr CharSet MakeCharSet(Predicate contains) {
  CharSet set{};
  for (int c = 0; c < 256; ++c) set[c] = contains(static_cast<unsigned char>(c));
  return set;
}

constexpr bool IsAlpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
constexpr bool IsVisible(unsigned char c) { return c >= 0x21 && c <= 0x7e; }
constexpr bool IsHexDigit(unsigned char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 9110 5.6.2 tchar.
constexpr CharSet kTokenChars = MakeCharSet([](unsigned char c) {
  return IsAlpha(c) || IsDigit(c) ||
         (std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos);
});

// RFC 9110 5.5 field-vchar, SP and HTAB (also qdtext and quoted-pair characters).
constexpr CharSet kFieldValueChars =
    MakeCharSet([](unsigned char c) { return c == ' ' || c == '\t' || IsVisible(c) || c >= 0x80; });

// RFC 3986 uri-host [ ":" port ]: unreserved, pct-encoded, sub-delims, ":" and IP-literal
// brackets.
constexpr CharSet kHostChars = MakeCharSet([](unsigned char c) {
  return IsAlpha(c) || IsDigit(c) ||
         (std::string_view("-._~%!$&'()*+,;=:[]").find(static_cast<char>(c)) !=
          std::string_view::npos);
});

bool IsToken(unsigned char c) { return kTokenChars[c]; }
bool IsWhitespace(char c) { return c == ' ' || c == '\t'; }

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return IsToken(static_cast<unsigned char>(c)); });
}

bool AllIn(const CharSet& set, std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return set[static_cast<unsigned char>(c)]; });
}

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  }
  return true;
}

std::string_view TrimWhitespace(std::string_view s) {
  while (!s.empty() && IsWhitespace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWhitespace(s.back())) s.remove_suffix(1);
  return s;
}

// Calls on_element for each non-empty element of a comma-separated list (RFC 9110 5.6.1).
template <typename OnElement>
void ForEachListElement(std::string_view list, OnElement on_element) {
  while (true) {
    const size_t comma = list.find(',');
    const std::string_view element = TrimWhitespace(list.substr(0, comma));
    if (!element.empty()) on_element(element);
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

size_t FindLineFeed(std::string_view input, size_t from) {
  if (from >= input.size()) return kNoLineFeed;
  const void* lf = std::memchr(input.data() + from, '\n', input.size() - from);
  return lf == nullptr ? kNoLineFeed
                       : static_cast<size_t>(static_cast<const char*>(lf) - input.data());
}

// `line` excludes its LF; removes the CR before it, or returns false for a bare LF.
bool StripCarriageReturn(std::string_view& line) {
  if (line.empty() || line.back() != '\r') return false;
  line.remove_suffix(1);
  return true;
}

// Whether a CR lies in [from, end - 1). The caller knows [from, end) holds no LF, so such a CR
// is followed by a byte that is not LF.
bool HasBareCarriageReturn(std::string_view input, size_t from, size_t end) {
  return end > from + 1 && std::memchr(input.data() + from, '\r', end - 1 - from) != nullptr;
}

size_t ContentBytes(std::string_view unterminated_line) {
  return unterminated_line.size() - (unterminated_line.ends_with('\r') ? 1 : 0);
}

bool ParseFieldLine(std::string_view line, Header& header) {
  size_t colon = 0;
  while (colon < line.size() && IsToken(static_cast<unsigned char>(line[colon]))) ++colon;
  if (colon == 0 || colon == line.size() || line[colon] != ':') return false;
  const std::string_view value = TrimWhitespace(line.substr(colon + 1));
  if (!AllIn(kFieldValueChars, value)) return false;
  header = {line.substr(0, colon), value};
  return true;
}

bool ParseContentLength(std::string_view s, uint64_t& length) {
  if (s.empty()) return false;
  uint64_t value = 0;
  for (char c : s) {
    if (!IsDigit(static_cast<unsigned char>(c))) return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  length = value;
  return true;
}

// 0 when the list (RFC 9110 5.6.1: empty elements ignored, OWS, case-insensitive) is exactly
// "chunked"; 501 for codings we lack followed by a final chunked; else 400.
int TransferEncodingError(std::string_view value) {
  size_t codings = 0;
  bool chunked_last = false;
  bool malformed = false;
  ForEachListElement(value, [&](std::string_view coding) {
    ++codings;
    // chunked must be the final coding, and only once.
    malformed = malformed || chunked_last;
    chunked_last = EqualsIgnoreCase(coding, "chunked");
    const std::string_view name = TrimWhitespace(coding.substr(0, coding.find(';')));
    if (!chunked_last && (!IsToken(name) || EqualsIgnoreCase(name, "chunked"))) malformed = true;
  });
  if (malformed || !chunked_last) return 400;
  return codings == 1 ? 0 : 501;
}

size_t CountHexDigits(std::string_view s, size_t max_count) {
  size_t n = 0;
  while (n < s.size() && n < max_count && IsHexDigit(static_cast<unsigned char>(s[n]))) ++n;
  return n;
}

uint64_t HexValue(std::string_view digits) {
  uint64_t value = 0;
  for (char c : digits) {
    const int nibble = IsDigit(static_cast<unsigned char>(c)) ? c - '0' : ToLower(c) - 'a' + 10;
    value = (value << 4) | static_cast<uint64_t>(nibble);
  }
  return value;
}

// RFC 9112 7.1.1: *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ).
bool IsValidChunkExtensions(std::string_view ext) {
  size_t i = 0;
  auto skip_whitespace = [&] {
    while (i < ext.size() && IsWhitespace(ext[i])) ++i;
  };
  auto skip_token = [&] {
    const size_t start = i;
    while (i < ext.size() && IsToken(static_cast<unsigned char>(ext[i]))) ++i;
    return i > start;
  };
  auto skip_quoted_string = [&] {
    for (++i; i < ext.size(); ++i) {
      if (ext[i] == '"') {
        ++i;
        return true;
      }
      if (ext[i] == '\\' && ++i == ext.size()) return false;
      if (!kFieldValueChars[static_cast<unsigned char>(ext[i])]) return false;
    }
    return false;
  };
  while (i < ext.size()) {
    skip_whitespace();
    if (i == ext.size() || ext[i] != ';') return false;
    ++i;
    skip_whitespace();
    if (!skip_token()) return false;
    const size_t after_name = i;
    skip_whitespace();
    if (i == ext.size() || ext[i] != '=') {
      i = after_name;
      continue;
    }
    ++i;
    skip_whitespace();
    const bool value_ok = (i < ext.size() && ext[i] == '"') ? skip_quoted_string() : skip_token();
    if (!value_ok) return false;
  }
  return true;
}

Method MethodFromName(std::string_view name) {
  switch (name.size()) {
    case 3:
      if (name == "GET") return Method::kGet;
      if (name == "PUT") return Method::kPut;
      break;
    case 4:
      if (name == "HEAD") return Method::kHead;
      if (name == "POST") return Method::kPost;
      break;
    case 5:
      if (name == "PATCH") return Method::kPatch;
      if (name == "TRACE") return Method::kTrace;
      break;
    case 6:
      if (name == "DELETE") return Method::kDelete;
      break;
    case 7:
      if (name == "OPTIONS") return Method::kOptions;
      if (name == "CONNECT") return Method::kConnect;
      break;
  }
  return Method::kOther;
}

}  // namespace

const Header* Request::FindHeader(std::string_view name) const {
  for (const Header& header : headers) {
    if (EqualsIgnoreCase(header.name, name)) return &header;
  }
  return nullptr;
}

RequestParser::RequestParser(const Limits& limits) : next_limits_(limits) { Reset(); }

void RequestParser::Reset() {
  limits_ = next_limits_;
  headers_.clear();
  headers_.reserve(limits_.max_headers);
  request_ = Request{};
  phase_ = Phase::kRequestLine;
  head_reported_ = false;
  saw_host_ = false;
  connection_close_ = false;
  connection_keep_alive_ = false;
  unknown_expectation_ = false;
  saw_transfer_encoding_ = false;
  transfer_encoding_error_ = 0;
  error_status_ = 0;
  pos_ = 0;
  line_end_scan_ = 0;
  body_start_ = 0;
  chunk_remaining_ = 0;
  framing_bytes_ = 0;
  head_detached_ = false;
}

ParseResult RequestParser::Parse(std::string_view input, std::string& decoded_body) {
  if (phase_ == Phase::kComplete) Reset();
  if (phase_ == Phase::kError) return {ParseStatus::kError, 0, error_status_};
  assert(input.size() >= pos_ && "Parse() must see every unconsumed byte of the request");
  PointViewsAt(input.data());

  if (InHead()) {
    const Progress head = ParseHead(input);
    if (head == Progress::kFailed) return {ParseStatus::kError, 0, error_status_};
    if (head == Progress::kNeedMore) return {};
    if (request_.chunked) {
      decoded_body.clear();
      head_bytes_ = pos_;
    }
  }

  Progress body = Progress::kDone;
  if (phase_ == Phase::kContentLengthBody) {
    const uint64_t length = *request_.content_length;
    if (input.size() - body_start_ >= length) {
      request_.body = input.substr(body_start_, length);
      pos_ = body_start_ + length;
    } else {
      body = Progress::kNeedMore;
    }
  } else if (phase_ != Phase::kComplete) {
    body = ParseChunkedBody(input, decoded_body);
    if (body == Progress::kDone) request_.body = decoded_body;
  }

  switch (body) {
    case Progress::kFailed:
      return {ParseStatus::kError, 0, error_status_};
    case Progress::kNeedMore: {
      const size_t dropped = TakeConsumedBody(input);
      if (head_reported_) return {ParseStatus::kNeedMore, dropped, 0};
      head_reported_ = true;
      return {ParseStatus::kHeadersComplete, dropped, 0};
    }
    case Progress::kDone:
      break;
  }
  phase_ = Phase::kComplete;
  return {ParseStatus::kComplete, pos_, 0};
}

RequestParser::Progress RequestParser::Fail(int status) {
  phase_ = Phase::kError;
  error_status_ = status;
  return Progress::kFailed;
}

void RequestParser::PointViewsAt(const char* data) {
  const uintptr_t old_base = base_;
  base_ = reinterpret_cast<uintptr_t>(data);
  if (old_base == base_ || phase_ == Phase::kRequestLine || head_detached_) return;
  MoveViews(old_base, data);
}

void RequestParser::MoveViews(uintptr_t old_base, const char* data) {
  auto repoint = [&](std::string_view& view) {
    if (view.data() == nullptr) return;
    view = {data + (reinterpret_cast<uintptr_t>(view.data()) - old_base), view.size()};
  };
  repoint(request_.method_name);
  repoint(request_.target);
  for (Header& header : headers_) {
    repoint(header.name);
    repoint(header.value);
  }
}

void RequestParser::DetachHead(std::string_view input) {
  head_copy_.assign(input.data(), head_bytes_);
  MoveViews(reinterpret_cast<uintptr_t>(input.data()), head_copy_.data());
  head_detached_ = true;
}

size_t RequestParser::TakeConsumedBody(std::string_view input) {
  if (!request_.chunked || pos_ < kStreamedBodyBytes) return 0;
  if (!head_detached_) DetachHead(input);
  const size_t dropped = pos_;
  pos_ = 0;
  line_end_scan_ -= dropped;
  return dropped;
}

RequestParser::Progress RequestParser::ParseHead(std::string_view input) {
  const size_t limit = limits_.max_header_bytes;
  while (true) {
    const size_t lf = FindLineFeed(input, line_end_scan_);
    if (lf == kNoLineFeed || lf >= limit) {
      // The line cannot be parsed yet (or ever): judge what has arrived within the limit, so
      // that a client ending lines with bare CRs is refused now rather than at the limit.
      const size_t judged_end = std::min(lf == kNoLineFeed ? input.size() : lf, limit);
      const size_t unjudged = line_end_scan_ > pos_ ? line_end_scan_ - 1 : pos_;
      if (HasBareCarriageReturn(input, unjudged, judged_end)) return Fail(400);
      if (lf != kNoLineFeed || input.size() >= limit) {
        return Fail(phase_ == Phase::kRequestLine ? 414 : 431);
      }
      line_end_scan_ = input.size();
      return Progress::kNeedMore;
    }

    std::string_view line = input.substr(pos_, lf - pos_);
    pos_ = line_end_scan_ = lf + 1;
    if (!StripCarriageReturn(line)) return Fail(400);
    if (phase_ == Phase::kRequestLine) {
      if (line.empty()) continue;
      if (const int status = ParseRequestLine(line)) return Fail(status);
      phase_ = Phase::kHeaderLines;
    } else if (line.empty()) {
      return FinishHead();
    } else {
      Header header;
      if (!ParseFieldLine(line, header)) return Fail(400);
      if (const int status = AddHeader(header)) return Fail(status);
    }
  }
}

int RequestParser::ParseRequestLine(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && IsToken(static_cast<unsigned char>(line[i]))) ++i;
  if (i == 0 || i == line.size() || line[i] != ' ') return 400;
  const std::string_view method = line.substr(0, i);

  const size_t target_start = ++i;
  while (i < line.size() && IsVisible(static_cast<unsigned char>(line[i]))) ++i;
  if (i == target_start || i == line.size() || line[i] != ' ') return 400;
  const std::string_view target = line.substr(target_start, i - target_start);

  const std::string_view version = line.substr(i + 1);
  if (version.size() != 8 || !version.starts_with("HTTP/") ||
      !IsDigit(static_cast<unsigned char>(version[5])) || version[6] != '.' ||
      !IsDigit(static_cast<unsigned char>(version[7]))) {
    return 400;
  }
  if (version[5] != '1') return 505;

  request_.method = MethodFromName(method);
  request_.method_name = method;
  request_.target = target;
  request_.version = version[7] == '0' ? Version::kHttp10 : Version::kHttp11;
  return 0;
}

int RequestParser::AddHeader(const Header& header) {
  if (headers_.size() >= limits_.max_headers) return 431;
  headers_.push_back(header);

  const std::string_view name = header.name;
  const std::string_view value = header.value;
  switch (name.size()) {
    case 4:
      if (!EqualsIgnoreCase(name, "host")) break;
      if (saw_host_ || !AllIn(kHostChars, value)) return 400;
      saw_host_ = true;
      break;
    case 6:
      if (!EqualsIgnoreCase(name, "expect") || request_.version != Version::kHttp11 ||
          value.empty()) {
        break;
      }
      if (EqualsIgnoreCase(value, "100-continue")) {
        request_.expect_continue = true;
      } else {
        unknown_expectation_ = true;
      }
      break;
    case 10: {
      if (!EqualsIgnoreCase(name, "connection")) break;
      bool all_tokens = true;
      ForEachListElement(value, [&](std::string_view option) {
        all_tokens = all_tokens && IsToken(option);
        connection_close_ = connection_close_ || EqualsIgnoreCase(option, "close");
        connection_keep_alive_ = connection_keep_alive_ || EqualsIgnoreCase(option, "keep-alive");
      });
      if (!all_tokens) return 400;
      break;
    }
    case 14: {
      if (!EqualsIgnoreCase(name, "content-length")) break;
      uint64_t length = 0;
      if (request_.content_length || !ParseContentLength(value, length)) return 400;
      request_.content_length = length;
      break;
    }
    case 17:
      if (!EqualsIgnoreCase(name, "transfer-encoding")) break;
      if (saw_transfer_encoding_) return 400;
      saw_transfer_encoding_ = true;
      transfer_encoding_error_ = TransferEncodingError(value);
      request_.chunked = transfer_encoding_error_ == 0;
      break;
  }
  return 0;
}

RequestParser::Progress RequestParser::FinishHead() {
  request_.headers = headers_;
  const bool http11 = request_.version == Version::kHttp11;
  if (http11 && !saw_host_) return Fail(400);
  if (saw_transfer_encoding_) {
    if (request_.content_length || !http11) return Fail(400);
    if (transfer_encoding_error_ != 0) return Fail(transfer_encoding_error_);
  }
  if (request_.content_length.value_or(0) > limits_.max_body_bytes) return Fail(413);
  if (unknown_expectation_) return Fail(417);
  request_.keep_alive = !connection_close_ && (http11 || connection_keep_alive_);

  if (request_.chunked) {
    phase_ = Phase::kChunkSizeLine;
  } else if (request_.content_length.value_or(0) > 0) {
    phase_ = Phase::kContentLengthBody;
    body_start_ = pos_;
  } else {
    phase_ = Phase::kComplete;
  }
  return Progress::kDone;
}

RequestParser::Progress RequestParser::ParseChunkedBody(std::string_view input,
                                                        std::string& decoded_body) {
  while (true) {
    switch (phase_) {
      case Phase::kChunkSizeLine: {
        const Progress size_line = ParseChunkSizeLine(input, decoded_body.size());
        if (size_line != Progress::kDone) return size_line;
        break;
      }
      case Phase::kChunkData: {
        const size_t take = std::min(input.size() - pos_, chunk_remaining_);
        decoded_body.append(input.data() + pos_, take);
        pos_ += take;
        chunk_remaining_ -= take;
        if (chunk_remaining_ > 0) return Progress::kNeedMore;
        phase_ = Phase::kChunkDataEnd;
        break;
      }
      case Phase::kChunkDataEnd:
        if (pos_ < input.size() && input[pos_] != '\r') return Fail(400);
        if (pos_ + 1 < input.size() && input[pos_ + 1] != '\n') return Fail(400);
        if (pos_ + 2 > input.size()) return Progress::kNeedMore;
        pos_ += 2;
        line_end_scan_ = pos_;
        phase_ = Phase::kChunkSizeLine;
        break;
      case Phase::kTrailerLines:
        return ParseTrailerLines(input);
      default:
        return Progress::kDone;
    }
  }
}

RequestParser::Progress RequestParser::ParseChunkSizeLine(std::string_view input,
                                                          size_t decoded_bytes) {
  const size_t lf = FindLineFeed(input, line_end_scan_);
  std::string_view line = input.substr(pos_, (lf == kNoLineFeed ? input.size() : lf) - pos_);
  const size_t digits = CountHexDigits(line, kMaxChunkSizeDigits + 1);
  if ((digits == 0 && !line.empty()) || digits > kMaxChunkSizeDigits) return Fail(400);
  const size_t extension_bytes = ContentBytes(line) - digits;
  if (framing_bytes_ + extension_bytes > limits_.max_header_bytes) return Fail(431);
  if (lf == kNoLineFeed) {
    line_end_scan_ = input.size();
    return Progress::kNeedMore;
  }

  pos_ = line_end_scan_ = lf + 1;
  if (!StripCarriageReturn(line) || digits == 0) return Fail(400);
  framing_bytes_ += extension_bytes;
  if (!IsValidChunkExtensions(line.substr(digits))) return Fail(400);
  const uint64_t size = HexValue(line.substr(0, digits));
  if (size == 0) {
    phase_ = Phase::kTrailerLines;
    return Progress::kDone;
  }
  if (size > limits_.max_body_bytes - decoded_bytes) return Fail(413);
  chunk_remaining_ = size;
  phase_ = Phase::kChunkData;
  return Progress::kDone;
}

RequestParser::Progress RequestParser::ParseTrailerLines(std::string_view input) {
  while (true) {
    const size_t lf = FindLineFeed(input, line_end_scan_);
    std::string_view line = input.substr(pos_, (lf == kNoLineFeed ? input.size() : lf) - pos_);
    if (framing_bytes_ + ContentBytes(line) > limits_.max_header_bytes) return Fail(431);
    if (lf == kNoLineFeed) {
      line_end_scan_ = input.size();
      return Progress::kNeedMore;
    }

    pos_ = line_end_scan_ = lf + 1;
    if (!StripCarriageReturn(line)) return Fail(400);
    if (line.empty()) return Progress::kDone;
    framing_bytes_ += line.size();
    Header trailer;
    if (!ParseFieldLine(line, trailer)) return Fail(400);
  }
}

}  // namespace shoal::http
