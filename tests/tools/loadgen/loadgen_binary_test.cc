// The loadgen binary itself, once, as a child process: flags reach the library, the JSON and .hgrm
// files are written, and the exit status follows verification.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"
#include "tests/support/test_server.h"
#include "tests/tools/loadgen/faulty_echo.h"
#include "tests/tools/loadgen/mini_json.h"
#include "tests/tools/loadgen/throttled_echo_server.h"

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

TEST(LoadgenBinaryTest, HelpListsEveryFlagDefined) {
  const std::string source = ReadFile("tools/loadgen/main.cc");
  std::vector<std::string> names;
  const std::regex definition(R"(ABSL_FLAG\([^,]+,\s*(\w+),)");
  for (std::sregex_iterator it(source.begin(), source.end(), definition), end; it != end; ++it) {
    names.push_back((*it)[1]);
  }
  ASSERT_GE(names.size(), 30u);
  CommandResult help = RunCommand({"tools/loadgen/loadgen", "--help"}, seconds(30));
  const std::string text = help.out + help.err;
  for (const auto& name : names) {
    EXPECT_NE(text.find("--" + name + " ("), std::string::npos) << name << " missing from --help";
  }
}

TEST(LoadgenBinaryTest, AssertionsExitThreeAndPrometheusOutput) {
  auto server = TestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string dir = std::getenv("TEST_TMPDIR");
  const std::string target = "--target=" + (*server)->address_text();
  std::string out;
  EXPECT_EQ(RunLoadgen({target, "--connections=2", "--requests=200", "--assert=p99<1ns"}, &out), 3)
      << out;
  EXPECT_NE(out.find("p99<1ns: FAILED"), std::string::npos) << out;
  EXPECT_EQ(RunLoadgen({target, "--connections=2", "--requests=200",
                        "--assert=errors==0,requests==200,p99<10s",
                        "--prometheus_out=" + dir + "/r.prom"},
                       &out),
            0)
      << out;
  EXPECT_NE(out.find("requests==200: ok (200)"), std::string::npos) << out;
  const std::string prom = ReadFile(dir + "/r.prom");
  EXPECT_NE(prom.find("loadgen_requests_total{protocol=\"echo\"} 200\n"), std::string::npos)
      << prom;
  EXPECT_NE(prom.find("loadgen_errors_total{protocol=\"echo\",kind=\"eof\"} 0\n"),
            std::string::npos);
  EXPECT_NE(prom.find("loadgen_assertions_passed{protocol=\"echo\"} 1\n"), std::string::npos);
  EXPECT_EQ(RunLoadgen({target, "--requests=10", "--assert=p99<2"}, &out), 2);
}

TEST(LoadgenBinaryTest, FindMaxRateAgainstAThrottledServer) {
  auto server = ThrottledEchoServer::Start(1000);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string dir = std::getenv("TEST_TMPDIR");
  std::string out;
  EXPECT_EQ(RunLoadgen({"--target=" + (*server)->address(), "--connections=1", "--pipeline=1000",
                        "--size=16", "--find_max_rate", "--rate=250", "--slo=p99<200ms",
                        "--duration=400ms", "--prometheus_out=" + dir + "/m.prom"},
                       &out),
            0)
      << out;
  EXPECT_NE(out.find("step 250 req/s: held"), std::string::npos) << out;
  EXPECT_NE(out.find("Max rate: "), std::string::npos) << out;
  EXPECT_NE(ReadFile(dir + "/m.prom").find("loadgen_max_rate{protocol=\"echo\",slo=\"p99<200ms\"}"),
            std::string::npos);
}

TEST(LoadgenBinaryTest, ServerPidReportsCpuPerRequest) {
  auto server = TestServer::Start();  // in this process: its CPU is this process's
  ASSERT_TRUE(server.ok()) << server.status();
  std::string out;
  EXPECT_EQ(RunLoadgen({"--target=" + (*server)->address_text(), "--connections=2",
                        "--duration=300ms", "--server_pid=" + std::to_string(getpid())},
                       &out),
            0)
      << out;
  EXPECT_NE(out.find("Server CPU: "), std::string::npos) << out;
  EXPECT_NE(out.find(" us/request"), std::string::npos) << out;
  EXPECT_EQ(RunLoadgen({"--server_pid=1", "--server_metrics=http://127.0.0.1:1/"}, &out), 2);
}

}  // namespace
}  // namespace shoal::testing
