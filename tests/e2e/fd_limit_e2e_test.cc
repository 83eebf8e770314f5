// The open-file limit over the real binary started under `prlimit --nofile=1024:4096`: shoal
// raises its soft limit to the hard limit (visible in /proc/PID/limits) and logs it, and warns
// when limits.max_connections cannot fit under that limit (and only then).
#include <signal.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/deadline.h"
#include "tests/support/shoal_process.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

// "Max open files  SOFT  HARD  files" from /proc/PID/limits, or "" if absent.
std::string OpenFilesLimits(pid_t pid) {
  std::ifstream limits("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(limits, line)) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream fields(line.substr(sizeof("Max open files") - 1));
      std::string soft, hard;
      fields >> soft >> hard;
      return soft + " " + hard;
    }
  }
  return "";
}

// Runs shoal under a 1024/4096 nofile limit with `max_connections`; returns its log up to the
// moment it is listening, after checking the limit it runs with and its clean exit.
std::string RunUnderNofile1024(const std::string& max_connections) {
  std::optional<std::string> prlimit = FindOnPath("prlimit");
  if (!prlimit) {
    ADD_FAILURE() << "prlimit is not installed (Debian package util-linux)";
    return "";
  }
  const std::string config = WriteTempFile(
      "fd_limit.yaml", EchoServerConfig(1, "limits:\n  max_connections: " + max_connections + "\n"));
  Subprocess shoal({*prlimit, "--nofile=1024:4096", ShoalBinaryPath(), "--config=" + config});
  EXPECT_TRUE(shoal.started());
  ShoalPorts ports = WaitForPorts(shoal, seconds(20));
  EXPECT_GT(ports.admin, 0) << shoal.err();
  // prlimit execs shoal in its own process: the pid is shoal's.
  EXPECT_EQ(OpenFilesLimits(shoal.pid()), "4096 4096");
  shoal.Signal(SIGTERM);
  EXPECT_EQ(shoal.Wait(seconds(20)), 0) << shoal.err();
  return shoal.err();
}

TEST(FdLimitE2e, SoftLimitIsRaisedToTheHardLimitAndLogged) {
  std::string log = RunUnderNofile1024("1000");
  EXPECT_NE(log.find("[info] open files: soft limit raised from 1024 to the hard limit 4096"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("open files: limits.max_connections"), std::string::npos) << log;
}

TEST(FdLimitE2e, MaxConnectionsAboveTheLimitIsWarned) {
  std::string log = RunUnderNofile1024("100000");
  EXPECT_NE(log.find("soft limit raised from 1024 to the hard limit 4096"), std::string::npos)
      << log;
  EXPECT_NE(log.find("[warning] open files: limits.max_connections 100000 needs about"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace shoal::testing
