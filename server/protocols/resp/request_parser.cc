#include "server/protocols/resp/request_parser.h"

#include <climits>
#include <cstring>

namespace shoal::server {

namespace {

constexpr size_t kLongStringSize = 21;  // Redis's LONG_STR_SIZE: longer is never an integer

bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char Unescaped(char c) {
  switch (c) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'a': return '\a';
    default: return c;
  }
}

}  // namespace

bool ParseRedisInteger(std::string_view text, int64_t* value) {
  if (text.empty() || text.size() >= kLongStringSize) return false;
  if (text == "0") {
    *value = 0;
    return true;
  }
  size_t i = 0;
  const bool negative = text[0] == '-';
  if (negative && ++i == text.size()) return false;
  if (text[i] < '1' || text[i] > '9') return false;
  uint64_t magnitude = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (magnitude > (UINT64_MAX - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
  }
  const uint64_t limit = negative ? uint64_t{1} << 63 : uint64_t{INT64_MAX};
  if (magnitude > limit) return false;
  *value = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

RespParse RespRequestParser::Parse(std::string_view input, const RespSettings& settings,
                                   RespCommand* command) {
  if (form_ == Form::kNone) {
    if (input.empty()) return RespParse{};
    form_ = input.front() == '*' ? Form::kMultibulk : Form::kInline;
    position_ = 0;
    scanned_ = 0;
    arguments_left_ = -1;
    bulk_length_ = -1;
    argument_count_ = 0;
  }
  return form_ == Form::kMultibulk ? ParseMultibulk(input, settings, command)
                                   : ParseInline(input, settings, command);
}

RespRequestParser::Line RespRequestParser::FindLine(std::string_view input, size_t* end) {
  const size_t from = std::max(scanned_, position_);
  const void* found = from < input.size()
                          ? std::memchr(input.data() + from, '\r', input.size() - from)
                          : nullptr;
  if (found == nullptr) {
    scanned_ = input.size();
    return input.size() - position_ > kRespMaxLineBytes ? Line::kTooLong : Line::kNeedMore;
  }
  const size_t cr = static_cast<size_t>(static_cast<const char*>(found) - input.data());
  scanned_ = cr;
  if (cr + 1 >= input.size()) return Line::kNeedMore;
  *end = cr;
  return input[cr + 1] == '\n' ? Line::kComplete : Line::kBadEnd;
}

RespParse RespRequestParser::Complete(size_t consumed) {
  form_ = Form::kNone;
  return RespParse{RespParseStatus::kComplete, consumed, {}};
}

RespParse RespRequestParser::Fail(RespParseStatus status, std::string_view error) {
  form_ = Form::kNone;
  return RespParse{status, 0, error};
}

RespParse RespRequestParser::ParseMultibulk(std::string_view input, const RespSettings& settings,
                                            RespCommand* command) {
  size_t end = 0;
  if (arguments_left_ < 0) {
    switch (FindLine(input, &end)) {
      case Line::kNeedMore: return RespParse{};
      case Line::kTooLong:
        return Fail(RespParseStatus::kProtocolError, "too big mbulk count string");
      case Line::kBadEnd: return Fail(RespParseStatus::kProtocolError, "invalid multibulk length");
      case Line::kComplete: break;
    }
    int64_t count = 0;
    if (!ParseRedisInteger(input.substr(1, end - 1), &count) || count > INT_MAX ||
        (count > 0 && static_cast<uint64_t>(count) > settings.max_arguments)) {
      return Fail(RespParseStatus::kProtocolError, "invalid multibulk length");
    }
    position_ = end + 2;
    if (count <= 0) {
      command->argument_count = 0;
      return Complete(position_);
    }
    arguments_left_ = count;
  }
  while (arguments_left_ > 0) {
    if (bulk_length_ < 0) {
      const Line line = FindLine(input, &end);
      if (line == Line::kNeedMore) return RespParse{};
      if (line == Line::kTooLong) {
        return Fail(RespParseStatus::kProtocolError, "too big bulk count string");
      }
      if (input[position_] != '$') {
        error_.assign("expected '$', got '");
        if (input[position_] != '\0') error_.append(1, input[position_]).append("'");
        return Fail(RespParseStatus::kProtocolError, error_);
      }
      int64_t length = 0;
      if (line == Line::kBadEnd ||
          !ParseRedisInteger(input.substr(position_ + 1, end - position_ - 1), &length) ||
          length < 0) {
        return Fail(RespParseStatus::kProtocolError, "invalid bulk length");
      }
      if (static_cast<uint64_t>(length) > settings.max_frame_bytes) {
        return Fail(RespParseStatus::kTooLarge, "invalid bulk length");
      }
      position_ = end + 2;
      if (position_ + static_cast<uint64_t>(length) > settings.max_frame_bytes + kRespMaxLineBytes) {
        return Fail(RespParseStatus::kTooLarge, "request too large");
      }
      bulk_length_ = length;
    }
    const size_t size = static_cast<size_t>(bulk_length_);
    if (input.size() - position_ < size + 2) return RespParse{};
    if (input[position_ + size] != '\r' || input[position_ + size + 1] != '\n') {
      return Fail(RespParseStatus::kProtocolError, "expected CRLF after bulk string");
    }
    if (argument_count_ < RespCommand::kKeptArguments) spans_[argument_count_] = {position_, size};
    ++argument_count_;
    position_ += size + 2;
    bulk_length_ = -1;
    --arguments_left_;
  }
  command->argument_count = argument_count_;
  for (size_t k = 0; k < std::min(argument_count_, RespCommand::kKeptArguments); ++k) {
    command->arguments[k] = input.substr(spans_[k].offset, spans_[k].size);
  }
  return Complete(position_);
}

RespParse RespRequestParser::ParseInline(std::string_view input, const RespSettings& settings,
                                         RespCommand* command) {
  const size_t limit = static_cast<size_t>(std::min<uint64_t>(settings.max_frame_bytes,
                                                              kRespMaxLineBytes));
  const void* found = scanned_ < input.size()
                          ? std::memchr(input.data() + scanned_, '\n', input.size() - scanned_)
                          : nullptr;
  if (found == nullptr) {
    scanned_ = input.size();
    if (input.size() > limit) return Fail(RespParseStatus::kTooLarge, "too big inline request");
    return RespParse{};
  }
  const size_t newline = static_cast<size_t>(static_cast<const char*>(found) - input.data());
  if (newline > limit) return Fail(RespParseStatus::kTooLarge, "too big inline request");
  std::string_view line = input.substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  line = line.substr(0, line.find('\0'));

  inline_arguments_.clear();
  argument_count_ = 0;
  size_t i = 0;
  const size_t n = line.size();
  while (true) {
    while (i < n && IsBlank(line[i])) ++i;
    if (i == n) break;
    const size_t start = inline_arguments_.size();
    char quote = 0;  // '"' or '\'' inside quotes
    bool done = false;
    while (!done) {
      const char c = i < n ? line[i] : '\0';
      const bool more = i + 1 < n;
      if (quote == '"' && c == '\\' && i + 3 < n && line[i + 1] == 'x' &&
          HexValue(line[i + 2]) >= 0 && HexValue(line[i + 3]) >= 0) {
        inline_arguments_.push_back(
            static_cast<char>(HexValue(line[i + 2]) * 16 + HexValue(line[i + 3])));
        i += 3;
      } else if (quote != 0 && c == '\\' && more && (quote == '"' || line[i + 1] == '\'')) {
        inline_arguments_.push_back(Unescaped(line[++i]));
      } else if (quote != 0 && c == quote) {
        // A closing quote must be followed by a blank or the end.
        if (more && !IsBlank(line[i + 1])) break;
        done = true;
      } else if (quote != 0 && i == n) {
        break;
      } else if (quote != 0) {
        inline_arguments_.push_back(c);
      } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || i == n) {
        done = true;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else {
        inline_arguments_.push_back(c);
      }
      if (i < n) ++i;
    }
    if (!done) return Fail(RespParseStatus::kProtocolError, "unbalanced quotes in request");
    if (argument_count_ < RespCommand::kKeptArguments) {
      spans_[argument_count_] = {start, inline_arguments_.size() - start};
    }
    ++argument_count_;
  }
  command->argument_count = argument_count_;
  for (size_t k = 0; k < std::min(argument_count_, RespCommand::kKeptArguments); ++k) {
    command->arguments[k] = std::string_view(inline_arguments_).substr(spans_[k].offset,
                                                                      spans_[k].size);
  }
  return Complete(newline + 1);
}

}  // namespace shoal::server
