// RESP2 on the wire as a client writes it: a command as a multibulk array of bulk strings
// ("*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n"). Pure functions, no I/O.
#ifndef SHOAL_TESTS_SUPPORT_RESP_WIRE_H_
#define SHOAL_TESTS_SUPPORT_RESP_WIRE_H_

#include <initializer_list>
#include <string>
#include <string_view>

namespace shoal::testing {

std::string RespBulkString(std::string_view value);
std::string RespCommand(std::initializer_list<std::string_view> arguments);

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_RESP_WIRE_H_
