// RespRequestParser: one RESP request at a time from a connection's unconsumed input, in either
// form and with the rules Redis 7 applies:
//  * multibulk "*<count>\r\n" then <count> bulk strings "$<length>\r\n<bytes>\r\n". A count of
//    zero or below is a complete request with no arguments (no reply; "*-10\r\nPING\r\n"
//    answers +PONG). Counts and lengths are Redis integers (no sign but '-', no leading zero).
//  * inline: any other first byte; a line ending in LF (CRLF) split as redis-cli's sdssplitargs
//    does: blanks separate arguments; "double quotes" take \n \r \t \b \a \xHH and \<any>
//    escapes; 'single quotes' take \'; a closing quote must be followed by a blank or the end;
//    a NUL ends the line. Unbalanced quotes are a protocol error.
// Limits (each a protocol error that closes the connection): at most max_arguments (1024)
// arguments; a bulk string of at most max_frame_bytes bytes and a request of at most
// max_frame_bytes + 64 KiB; a length line or inline request of at most 64 KiB (inline: and at
// most max_frame_bytes). Where Redis skips the two bytes after a bulk string, this parser
// requires them to be CRLF.
//
// Parsing resumes where it stopped: after kNeedMore the next call must be given the same bytes
// again (the request's start) with newer ones appended; nothing parsed before is examined
// again, so a request costs O(its size) however it is split.
//
// Threading: one parser per connection, on its worker thread.
#ifndef SHOAL_SERVER_PROTOCOLS_RESP_REQUEST_PARSER_H_
#define SHOAL_SERVER_PROTOCOLS_RESP_REQUEST_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace shoal::server {

struct RespSettings {
  uint64_t max_frame_bytes{};
  size_t max_arguments{};
};

inline constexpr size_t kRespMaxLineBytes = 64 * 1024;

// A parsed request: its argument count and the first kKeptArguments arguments (enough for every
// command shoal answers and for Redis's "unknown command" text). The views point into the
// input given to Parse or into the parser, valid until the next Parse.
struct RespCommand {
  static constexpr size_t kKeptArguments = 48;
  size_t argument_count = 0;
  std::string_view arguments[kKeptArguments];
};

enum class RespParseStatus { kNeedMore, kComplete, kProtocolError, kTooLarge };

struct RespParse {
  RespParseStatus status = RespParseStatus::kNeedMore;
  size_t consumed = 0;     // bytes of the request when kComplete
  std::string_view error;  // Redis's text after "ERR Protocol error: ", for the errors
};

class RespRequestParser {
 public:
  RespParse Parse(std::string_view input, const RespSettings& settings, RespCommand* command);
  // True while a request has started but is not complete.
  bool mid_request() const { return form_ != Form::kNone; }

 private:
  enum class Form { kNone, kMultibulk, kInline };
  struct Span {
    size_t offset = 0;
    size_t size = 0;
  };
  enum class Line { kNeedMore, kComplete, kTooLong, kBadEnd };

  RespParse ParseMultibulk(std::string_view input, const RespSettings& settings,
                           RespCommand* command);
  RespParse ParseInline(std::string_view input, const RespSettings& settings,
                        RespCommand* command);
  // The line starting at position_: its end (the CR) in *end. Resumes the search at scanned_.
  Line FindLine(std::string_view input, size_t* end);
  RespParse Complete(size_t consumed);
  RespParse Fail(RespParseStatus status, std::string_view error);

  Form form_ = Form::kNone;
  size_t position_ = 0;         // next byte of the request to parse
  size_t scanned_ = 0;          // bytes searched for the current line's end
  int64_t arguments_left_ = -1;  // multibulk: -1 before the count line
  int64_t bulk_length_ = -1;     // multibulk: -1 before the current length line
  size_t argument_count_ = 0;
  Span spans_[RespCommand::kKeptArguments];
  std::string inline_arguments_;  // inline arguments, unquoted
  std::string error_;
};

// Redis's string2ll: an optional '-', then "0" or a digit 1-9 and digits; fits in int64_t.
bool ParseRedisInteger(std::string_view text, int64_t* value);

}  // namespace shoal::server

#endif  // SHOAL_SERVER_PROTOCOLS_RESP_REQUEST_PARSER_H_
