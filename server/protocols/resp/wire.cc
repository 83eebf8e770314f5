#include "server/protocols/resp/wire.h"

#include <charconv>

namespace shoal::server {

namespace {

template <typename Integer>
void AppendLine(char prefix, Integer value, std::string& out) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
  out.push_back(prefix);
  out.append(digits, static_cast<size_t>(end - digits));
  out.append("\r\n");
}

}  // namespace

void AppendRespBulk(std::string_view value, std::string& out) {
  AppendLine('$', value.size(), out);
  out.append(value);
  out.append("\r\n");
}

void AppendRespBulkHeader(size_t size, std::string& out) { AppendLine('$', size, out); }

void AppendRespArrayHeader(size_t count, std::string& out) { AppendLine('*', count, out); }

void AppendRespSimple(std::string_view text, std::string& out) {
  out.push_back('+');
  out.append(text);
  out.append("\r\n");
}

void AppendRespError(std::string_view text, std::string& out) {
  out.push_back('-');
  for (char c : text) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  out.append("\r\n");
}

void AppendRespInteger(int64_t value, std::string& out) { AppendLine(':', value, out); }

void AppendRespNull(RespVersion version, std::string& out) {
  out.append(version == RespVersion::kResp3 ? "_\r\n" : "$-1\r\n");
}

void AppendRespMapHeader(size_t pairs, RespVersion version, std::string& out) {
  if (version == RespVersion::kResp3) {
    AppendLine('%', pairs, out);
  } else {
    AppendLine('*', 2 * pairs, out);
  }
}

void AppendRespSetHeader(size_t count, RespVersion version, std::string& out) {
  AppendLine(version == RespVersion::kResp3 ? '~' : '*', count, out);
}

void AppendRespVerbatimText(std::string_view text, RespVersion version, std::string& out) {
  if (version == RespVersion::kResp2) {
    AppendRespBulk(text, out);
    return;
  }
  AppendLine('=', text.size() + 4, out);
  out.append("txt:");
  out.append(text);
  out.append("\r\n");
}

}  // namespace shoal::server
