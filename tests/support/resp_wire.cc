#include "tests/support/resp_wire.h"

namespace shoal::testing {

std::string RespBulkString(std::string_view value) {
  return "$" + std::to_string(value.size()) + "\r\n" + std::string(value) + "\r\n";
}

std::string RespCommand(std::initializer_list<std::string_view> arguments) {
  std::string out = "*" + std::to_string(arguments.size()) + "\r\n";
  for (std::string_view argument : arguments) out += RespBulkString(argument);
  return out;
}

}  // namespace shoal::testing
