#include "tests/support/http_wire.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

namespace shoal::testing {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (EqualsIgnoreCase(field, name)) return value;
  }
  return std::nullopt;
}

size_t HttpResponse::HeaderCount(std::string_view name) const {
  return static_cast<size_t>(std::count_if(headers.begin(), headers.end(), [&](const auto& h) {
    return EqualsIgnoreCase(h.first, name);
  }));
}

ParseOutcome ParseResponse(std::string_view data, bool head_request, HttpResponse* out,
                           size_t* consumed) {
  const size_t head_end = data.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return ParseOutcome::kNeedMore;
  HttpResponse response;
  std::string_view head = data.substr(0, head_end + 2);
  auto fail = [&](std::string why) {
    out->reason = std::move(why);
    return ParseOutcome::kMalformed;
  };

  size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  head.remove_prefix(line_end + 2);
  // "HTTP/1.1 200 OK"
  if (status_line.size() < 13 || !status_line.starts_with("HTTP/1.1 ") || status_line[12] != ' ') {
    return fail("bad status line: " + std::string(status_line));
  }
  std::string_view code = status_line.substr(9, 3);
  if (std::from_chars(code.data(), code.data() + 3, response.status).ptr != code.data() + 3) {
    return fail("bad status code: " + std::string(status_line));
  }
  response.reason = std::string(status_line.substr(13));

  while (!head.empty()) {
    line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    head.remove_prefix(line_end + 2);
    if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos) {
      return fail("bare CR or LF in a header line");
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return fail("bad header line: " + std::string(line));
    }
    response.headers.emplace_back(std::string(line.substr(0, colon)),
                                  std::string(Trim(line.substr(colon + 1))));
  }

  size_t body_length = 0;
  const bool has_body = !head_request && response.status >= 200 && response.status != 204 &&
                        response.status != 304;
  if (response.status >= 200 && response.status != 204) {
    if (response.HeaderCount("Content-Length") != 1) return fail("not one Content-Length");
    std::string value = *response.Header("Content-Length");
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), body_length);
    if (ec != std::errc() || ptr != value.data() + value.size()) {
      return fail("bad Content-Length: " + value);
    }
  } else if (response.Header("Content-Length")) {
    return fail("Content-Length on a 1xx or 204 response");
  }
  if (response.Header("Transfer-Encoding")) return fail("unexpected Transfer-Encoding");

  const size_t body_start = head_end + 4;
  const size_t total = body_start + (has_body ? body_length : 0);
  if (data.size() < total) return ParseOutcome::kNeedMore;
  response.body = std::string(data.substr(body_start, total - body_start));
  response.raw = std::string(data.substr(0, total));
  *out = std::move(response);
  *consumed = total;
  return ParseOutcome::kDone;
}

bool IsImfFixdate(std::string_view v) {
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  static constexpr std::string_view kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (v.size() != 29) return false;
  auto digits = [&](size_t at, size_t n) {
    for (size_t i = at; i < at + n; ++i) {
      if (v[i] < '0' || v[i] > '9') return false;
    }
    return true;
  };
  auto one_of = [](std::string_view s, const auto& list) {
    return std::find(std::begin(list), std::end(list), s) != std::end(list);
  };
  return one_of(v.substr(0, 3), kDays) && v.substr(3, 2) == ", " && digits(5, 2) && v[7] == ' ' &&
         one_of(v.substr(8, 3), kMonths) && v[11] == ' ' && digits(12, 4) && v[16] == ' ' &&
         digits(17, 2) && v[19] == ':' && digits(20, 2) && v[22] == ':' && digits(23, 2) &&
         v.substr(25) == " GMT";
}

std::string ExpectedResponse(int status, std::string_view date, std::string_view content_type,
                             std::string_view body, bool head_request,
                             std::string_view connection_field, std::string_view extra_fields) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  switch (status) {
    case 200: out += "OK"; break;
    case 400: out += "Bad Request"; break;
    case 404: out += "Not Found"; break;
    case 405: out += "Method Not Allowed"; break;
    case 413: out += "Content Too Large"; break;
    case 414: out += "URI Too Long"; break;
    case 417: out += "Expectation Failed"; break;
    case 431: out += "Request Header Fields Too Large"; break;
    case 501: out += "Not Implemented"; break;
    case 505: out += "HTTP Version Not Supported"; break;
    default: out += "?"; break;
  }
  out += "\r\nDate: ";
  out += date;
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (!connection_field.empty()) {
    out += "Connection: ";
    out += connection_field;
    out += "\r\n";
  }
  out += extra_fields;
  out += "\r\n";
  if (!head_request) out += body;
  return out;
}

}  // namespace shoal::testing
