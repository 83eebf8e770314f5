#include "server/protocols/http/response.h"

#include <charconv>

namespace shoal::http {

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";
  }
}

namespace {

void AppendNumber(std::string& out, size_t value) {
  char digits[24];
  const char* end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
  out.append(digits, static_cast<size_t>(end - digits));
}

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

void AppendResponseHead(std::string& out, const ResponseHead& head) {
  out.append("HTTP/1.1 ");
  AppendNumber(out, static_cast<size_t>(head.status));
  out.push_back(' ');
  out.append(ReasonPhrase(head.status));
  out.append("\r\n");
  if (!head.date.empty()) AppendField(out, "Date", head.date);
  if (!head.content_type.empty()) AppendField(out, "Content-Type", head.content_type);
  if (head.status >= 200 && head.status != 204) {
    out.append("Content-Length: ");
    AppendNumber(out, head.content_length);
    out.append("\r\n");
  }
  if (!head.keep_alive) {
    AppendField(out, "Connection", "close");
  } else if (head.request_version == Version::kHttp10) {
    AppendField(out, "Connection", "keep-alive");
  }
  out.append(head.extra_fields);
  out.append("\r\n");
}

}  // namespace shoal::http
