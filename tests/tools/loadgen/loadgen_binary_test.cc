// The loadgen binary itself, once, as a child process: flags reach the library, the JSON and .hgrm
// files are written, and the exit status follows verification.
#include <gtest/gtest.h>

#include <signal.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"
#include "tests/support/test_server.h"
#include "tests/tools/loadgen/faulty_echo.h"
#include "tests/tools/loadgen/mini_json.h"

namespace shoal::testing {
namespace {

// Runs tools/loadgen/loadgen with `args`; stdout into *out. Returns the exit status.
int RunLoadgen(const std::vector<std::string>& args, std::string* out) {
  std::vector<std::string> argv = {"tools/loadgen/loadgen"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult result = RunCommand(argv, seconds(120));
  *out = result.out;
  return result.exit_code.value_or(-1);
}

TEST(LoadgenBinaryTest, RunsWritesJsonAndHgrmAndExitsByVerification) {
  auto server = TestServer::Start();
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
  auto json = JsonReader::Parse(ReadFile(dir + "/r.json"));
  ASSERT_TRUE(json.has_value());
  EXPECT_EQ((*json)["requests"].number, 300);
  EXPECT_EQ((*json)["config"]["size"].number, 1024);
  const std::string hgrm = ReadFile(dir + "/r.hgrm");
  EXPECT_EQ(hgrm.rfind("       Value     Percentile TotalCount 1/(1-Percentile)", 0), 0u);
  EXPECT_NE(hgrm.find("Total count    =          300]"), std::string::npos) << hgrm;

  FaultyEcho faulty_echo(Fault::kCorruptByte);
  TestServerOptions faulty_options;
  faulty_options.factory = faulty_echo.factory();
  auto faulty = TestServer::Start(faulty_options);
  ASSERT_TRUE(faulty.ok());
  status = RunLoadgen({"--target=" + (*faulty)->address_text(), "--connections=1", "--requests=50",
                       "--verify"},
                      &out);
  EXPECT_EQ(status, 1) << out;
  EXPECT_NE(out.find("mismatch 1"), std::string::npos) << out;

  EXPECT_EQ(RunLoadgen({"--protocol=smtp"}, &out), 2);
  EXPECT_EQ(RunLoadgen({"--size=99999999999999999999999"}, &out), 2);
  EXPECT_EQ(RunLoadgen({"--size=18014398509481984KiB"}, &out), 2);
  EXPECT_EQ(RunLoadgen({"--target=" + (*server)->address_text(), "--connections=0"}, &out), 2);
}

TEST(LoadgenBinaryTest, TimelineWithASignalMark) {
  auto server = TestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string dir = std::getenv("TEST_TMPDIR");
  Subprocess loadgen({"tools/loadgen/loadgen", "--target=" + (*server)->address_text(),
                      "--connections=2", "--rate=200:400:1s", "--hold=1s", "--mark_signal",
                      "--timeline=" + dir + "/t.jsonl", "--interval_log=" + dir + "/t.hlog"});
  ASSERT_TRUE(loadgen.started());
  ASSERT_TRUE(loadgen.WaitForStderrLine("holding 2 connections", seconds(30)).has_value())
      << loadgen.err();
  loadgen.Signal(SIGUSR1);
  EXPECT_EQ(loadgen.Wait(seconds(30)), 0) << loadgen.out() << loadgen.err();
  EXPECT_NE(loadgen.out().find("open loop at 200:400:1s req/s"), std::string::npos)
      << loadgen.out();
  // The ramp's integral: (200 + 400) / 2 over the second --duration defaults to.
  EXPECT_NE(loadgen.out().find("scheduled 300, sent 300, completed 300"), std::string::npos)
      << loadgen.out();
  const std::string timeline = ReadFile(dir + "/t.jsonl");
  EXPECT_NE(timeline.find("\"t\": 0, \"requests\": "), std::string::npos) << timeline;
  EXPECT_NE(timeline.find("\"mark\": 1}"), std::string::npos) << timeline;
  EXPECT_NE(ReadFile(dir + "/t.hlog").find("\"Timestamp\",\"Int_Count\""), std::string::npos);
}

}  // namespace
}  // namespace shoal::testing
