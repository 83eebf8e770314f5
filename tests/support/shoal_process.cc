#include "tests/support/shoal_process.h"

namespace shoal::testing {

std::string EchoServerConfig(int workers, std::string_view extra) {
  return ServerConfig("echo", workers, extra);
}

std::string ServerConfig(std::string_view protocol, int workers, std::string_view extra) {
  const std::string name(protocol);
  return "workers: " + std::to_string(workers) + "\nlisteners:\n  - name: " + name +
         "\n    address: 127.0.0.1:0\n    protocol: " + name +
         "\nadmin:\n  address: 127.0.0.1:0\n" + std::string(extra);
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
