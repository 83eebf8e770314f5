// The real shoal binary as a child process: a config for one echo listener plus the admin
// endpoint, both on ephemeral loopback ports, and the ports it reports once it is listening.
// Threading: test thread (it drives a Subprocess).
#ifndef SHOAL_TESTS_SUPPORT_SHOAL_PROCESS_H_
#define SHOAL_TESTS_SUPPORT_SHOAL_PROCESS_H_

#include <string>
#include <string_view>

#include "tests/support/deadline.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {

// YAML: `workers` workers, one echo listener on 127.0.0.1:0, the admin endpoint on 127.0.0.1:0,
// then `extra` (more top-level sections, each line ending in a newline).
std::string EchoServerConfig(int workers, std::string_view extra = {});
// The same with the one listener (named like its protocol) speaking `protocol`: echo, http, resp.
std::string ServerConfig(std::string_view protocol, int workers, std::string_view extra = {});

struct ShoalPorts {
  int listener = -1;  // the first listener's
  int admin = -1;
  // Both lines came.
  bool started() const { return listener > 0 && admin > 0; }
};
// Waits for the "listening:" and "admin: listening on" lines; a port whose line did not come
// by the deadline stays -1.
ShoalPorts WaitForPorts(Subprocess& shoal, Deadline deadline = seconds(20));

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_SHOAL_PROCESS_H_
