#include "tests/support/shoal_process.h"

namespace shoal::testing {

std::string EchoServerConfig(int workers, std::string_view extra) {
  return "workers: " + std::to_string(workers) +
         "\n"
         "listeners:\n"
         "  - name: echo\n"
         "    address: 127.0.0.1:0\n"
         "    protocol: echo\n"
         "admin:\n"
         "  address: 127.0.0.1:0\n" +
         std::string(extra);
}

ShoalPorts WaitForPorts(Subprocess& shoal, Deadline deadline) {
  ShoalPorts ports;
  if (auto line = shoal.WaitForStderrLine("listening:", deadline)) {
    ports.listener = PortFromListeningLine(*line);
  }
  if (auto line = shoal.WaitForStderrLine("admin: listening on", deadline)) {
    ports.admin = PortFromListeningLine(*line);
  }
  return ports;
}

}  // namespace shoal::testing
