// The loadgen binary itself, once, via fork/exec: flags reach the library, the JSON and .hgrm
// files are written, and the exit status follows verification.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/tools/loadgen/mini_json.h"
#include "tests/support/test_server.h"
#include "tests/tools/loadgen/faulty_echo.h"

namespace shoal::loadgen {
namespace {

// Runs tools/loadgen/loadgen with `args`; stdout into *out. Returns the exit status.
int RunLoadgen(const std::vector<std::string>& args, std::string* out) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/stdout.txt";
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    std::string binary = "tools/loadgen/loadgen";
    argv.push_back(binary.data());
    std::vector<std::string> copies = args;
    for (auto& a : copies) argv.push_back(a.data());
    argv.push_back(nullptr);
    FILE* f = std::freopen(path.c_str(), "w", stdout);
    if (f == nullptr) _exit(127);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  *out = buffer.str();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(LoadgenBinaryTest, RunsWritesJsonAndHgrmAndExitsByVerification) {
  auto server = testing::TestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string dir = std::getenv("TEST_TMPDIR");
  std::string out;
  int status = RunLoadgen({"--target=" + (*server)->address_text(), "--protocol=echo",
                           "--connections=2", "--threads=1", "--requests=300", "--size=1KiB",
                           "--pipeline=2", "--verify", "--json=" + dir + "/r.json",
                           "--hgrm=" + dir + "/r.hgrm"},
                          &out);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("300 requests in "), std::string::npos) << out;
  auto json = testing::JsonReader::Parse(ReadFile(dir + "/r.json"));
  ASSERT_TRUE(json.has_value());
  EXPECT_EQ((*json)["requests"].number, 300);
  EXPECT_EQ((*json)["config"]["size"].number, 1024);
  const std::string hgrm = ReadFile(dir + "/r.hgrm");
  EXPECT_EQ(hgrm.rfind("       Value     Percentile TotalCount 1/(1-Percentile)", 0), 0u);
  EXPECT_NE(hgrm.find("Total count    =          300]"), std::string::npos) << hgrm;

  testing::FaultyEcho faulty_echo(testing::Fault::kCorruptByte);
  testing::TestServerOptions faulty_options;
  faulty_options.factory = faulty_echo.factory();
  auto faulty = testing::TestServer::Start(faulty_options);
  ASSERT_TRUE(faulty.ok());
  status = RunLoadgen({"--target=" + (*faulty)->address_text(), "--connections=1", "--requests=50",
                       "--verify"},
                      &out);
  EXPECT_EQ(status, 1) << out;
  EXPECT_NE(out.find("mismatch 1"), std::string::npos) << out;

  EXPECT_EQ(RunLoadgen({"--protocol=smtp"}, &out), 2);
  EXPECT_EQ(RunLoadgen({"--target=" + (*server)->address_text(), "--connections=0"}, &out), 2);
}

}  // namespace
}  // namespace shoal::loadgen
