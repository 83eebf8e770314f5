// loadgen against in-process servers over real sockets: exact request counts, verification that
// catches a corrupted byte and reordered frames, open-loop pacing and coordinated-omission
// correction, multiple targets, http, and the JSON report agreeing with the text report.
// Every wait is bounded by loadgen's own timeouts; nothing sleeps to synchronise.
#include "tools/loadgen/loadgen.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "tests/support/test_server.h"
#include "tests/tools/loadgen/faulty_echo.h"
#include "tests/tools/loadgen/mini_json.h"
#include "tests/tools/loadgen/short_run.h"
#include "tests/tools/loadgen/stalling_echo_server.h"
#include "tools/loadgen/report.h"

namespace shoal::loadgen {
namespace {

using testing::Fault;
using testing::FaultyEcho;
using testing::Json;
using testing::JsonReader;
using testing::TestServer;

Options Base(const std::string& target) {
  return testing::ShortRunOptions(target, {.connections = 4, .threads = 2, .size = 64});
}

std::unique_ptr<TestServer> StartServer(std::string_view protocol,
                                        core::ProtocolFactory factory = nullptr) {
  return testing::StartLoadgenTarget(protocol, std::move(factory));
}

// Runs the Base options, edited by `adjust`, against an echo server with `fault`.
absl::StatusOr<Result> RunAgainstFault(Fault fault, const std::function<void(Options&)>& adjust) {
  FaultyEcho faulty(fault);
  auto server = StartServer("echo", faulty.factory());
  if (server == nullptr) return absl::UnavailableError("the faulty echo server did not start");
  Options options = Base(server->address_text());
  adjust(options);
  return loadgen::Run(options);
}

TEST(LoadgenTest, RequestsCompletesExactlyNWithZeroErrors) {
  auto server = StartServer("echo");
  ASSERT_NE(server, nullptr);
  Options options = Base(server->address_text());
  options.requests = 5003;  // not a multiple of the connections
  options.verify = true;
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requests, 5003u);
  EXPECT_EQ(result->requests_sent, 5003u);
  EXPECT_EQ(result->verified, 5003u);
  EXPECT_EQ(result->errors.total(), 0u);
  EXPECT_EQ(result->lost, 0u);
  EXPECT_EQ(result->latency.count(), 5003u);
  EXPECT_EQ(result->bytes_sent, 5003u * 68);
  EXPECT_EQ(result->bytes_received, 5003u * 68);
  EXPECT_EQ(result->connections_open_at_start, 4);
  EXPECT_FALSE(result->verification_failed());
  EXPECT_EQ(ExitCode(*result), 0);
}

TEST(LoadgenTest, LargeFramesWithWarmupAndPipelining) {
  auto server = StartServer("echo");
  ASSERT_NE(server, nullptr);
  Options options = Base(server->address_text());
  options.requests = 400;
  options.size = 16 << 10;
  options.pipeline = 16;
  options.warmup_ns = 100'000'000;
  options.verify = true;
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requests, 400u);
  EXPECT_EQ(result->errors.total(), 0u);
  // Warm-up requests were answered and verified too, but are not in the figures.
  EXPECT_GE(result->verified, 400u);
  EXPECT_EQ(result->bytes_received, 400u * (4 + (16 << 10)));
}

TEST(LoadgenTest, DurationModeMeasuresTheWindow) {
  auto server = StartServer("echo");
  ASSERT_NE(server, nullptr);
  Options options = Base(server->address_text());
  options.duration_ns = 300'000'000;
  options.warmup_ns = 100'000'000;
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_DOUBLE_EQ(result->duration_s, 0.3);
  EXPECT_GT(result->requests, 100u);
  EXPECT_EQ(result->errors.total(), 0u);
  EXPECT_EQ(result->requests, result->latency.count());
  // Closed loop: every measured request that was sent was answered before the run ended.
  EXPECT_EQ(result->requests, result->requests_sent);
  EXPECT_EQ(ExitCode(*result), 0);
}

TEST(LoadgenTest, VerifyCatchesAServerThatCorruptsOneByte) {
  auto result = RunAgainstFault(Fault::kCorruptByte, [&](Options& options) {
    options.connections = 2;
    options.threads = 1;
    options.requests = 200;
    options.verify = true;
  });
  ASSERT_TRUE(result.ok()) << result.status();
  // Every connection (the reconnects too) gets one corrupted frame (its 4th).
  EXPECT_GE(result->errors.mismatch, 2u);
  EXPECT_EQ(result->errors.total(), result->errors.mismatch);
  EXPECT_TRUE(result->verification_failed());
  EXPECT_EQ(ExitCode(*result), 1);
  EXPECT_NE(FormatText(*result).find("VERIFICATION FAILED"), std::string::npos);
}

TEST(LoadgenTest, WithoutVerifyACorruptedByteGoesUnnoticed) {
  // What --verify is for: the framing is intact, only the content changed.
  auto result = RunAgainstFault(Fault::kCorruptByte, [&](Options& options) {
    options.connections = 2;
    options.threads = 1;
    options.requests = 200;
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requests, 200u);
  EXPECT_EQ(result->errors.total(), 0u);
  EXPECT_EQ(ExitCode(*result), 0);
}

TEST(LoadgenTest, VerifyCatchesAServerThatReplaysItsFirstReplyAtEverySize) {
  for (size_t size : {1, 4, 8, 12}) {
    auto result = RunAgainstFault(Fault::kReplayFirst, [&](Options& options) {
      options.connections = options.threads = options.pipeline = 1;
      options.requests = 100;
      options.size = size;
      options.verify = true;
    });
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_GE(result->errors.mismatch, 1u) << size;
    EXPECT_EQ(ExitCode(*result), 1) << size;
  }
}

TEST(LoadgenTest, VerifyCatchesAServerThatReordersFrames) {
  auto result = RunAgainstFault(Fault::kSwapFrames, [&](Options& options) {
    options.connections = 2;
    options.threads = 1;
    options.pipeline = 8;
    options.requests = 300;
    options.verify = true;
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GE(result->errors.mismatch, 2u);
  EXPECT_EQ(result->errors.total(), result->errors.mismatch);
  EXPECT_GT(result->lost, 0u);  // what was in flight behind the swapped frames
  EXPECT_EQ(ExitCode(*result), 1);
}

TEST(LoadgenTest, OpenLoopKeepsTheRequestedRate) {
  auto server = StartServer("echo");
  ASSERT_NE(server, nullptr);
  Options options = Base(server->address_text());
  options.connections = 4;
  options.threads = 1;
  options.pipeline = 1;
  options.rate = 2000;
  options.duration_ns = 2'000'000'000;
  options.warmup_ns = 200'000'000;
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->open_loop);
  EXPECT_EQ(result->errors.total(), 0u);
  EXPECT_NEAR(result->requests_per_second(), 2000.0, 2000.0 * 0.02);
  EXPECT_NEAR(static_cast<double>(result->requests_sent), 4000.0, 4000.0 * 0.02);
  EXPECT_EQ(result->latency.count(), result->latency_uncorrected.count());
  // Measured from the intended time, never less than from the actual send.
  EXPECT_GE(result->latency.ValueAtPercentile(50), result->latency_uncorrected.ValueAtPercentile(50));
}

TEST(LoadgenTest, OpenLoopRequestsModeSendsExactlyN) {
  auto server = StartServer("echo");
  ASSERT_NE(server, nullptr);
  Options options = Base(server->address_text());
  options.rate = 5000;
  options.requests = 1000;
  options.verify = true;
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requests, 1000u);
  EXPECT_EQ(result->errors.total(), 0u);
  // 1000 requests at 5000/s take about 0.2 s.
  EXPECT_NEAR(result->duration_s, 0.2, 0.1);
}

TEST(LoadgenTest, OpenLoopChargesAStallToEveryRequestItDelayed) {
  // One connection at 1000 req/s; the server stalls 200 ms once. Closed-loop thinking (from the
  // actual send) sees one slow request; from the intended send times ~200 requests were late.
  auto server = testing::StallingEchoServer::Start(/*stall_frame=*/300, /*stall_ms=*/200);
  ASSERT_TRUE(server.ok()) << server.status();
  Options options = Base((*server)->address());
  options.connections = 1;
  options.threads = 1;
  options.pipeline = 1;
  options.rate = 1000;
  options.duration_ns = 1'000'000'000;
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->errors.total(), 0u);
  EXPECT_GE(result->latency.max(), 190'000'000);
  EXPECT_GE(result->latency_uncorrected.max(), 190'000'000);
  EXPECT_GE(result->latency.ValueAtPercentile(90), 40'000'000) << FormatText(*result);
  EXPECT_LT(result->latency_uncorrected.ValueAtPercentile(90), 20'000'000) << FormatText(*result);
}

TEST(LoadgenTest, SpreadsConnectionsOverSeveralTargets) {
  FaultyEcho first_echo;  // kNone fault: a counting echo
  FaultyEcho second_echo;
  auto first = StartServer("echo", first_echo.factory());
  auto second = StartServer("echo", second_echo.factory());
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  Options options = Base(first->address_text());
  options.targets.push_back(second->address_text());
  options.requests = 1000;
  options.verify = true;
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requests, 1000u);
  EXPECT_EQ(result->errors.total(), 0u);
  EXPECT_EQ(first_echo.sessions(), 2u);
  EXPECT_EQ(second_echo.sessions(), 2u);
  EXPECT_EQ(first_echo.frames() + second_echo.frames(), 1000u);
  EXPECT_EQ(first_echo.frames(), 500u);
}

TEST(LoadgenTest, HttpPlaintextAndEchoAgainstShoalsHttpProtocol) {
  auto server = StartServer("http");
  ASSERT_NE(server, nullptr);
  for (HttpRequest kind : {HttpRequest::kPlaintext, HttpRequest::kEcho}) {
    Options options = Base(server->address_text());
    options.protocol = "http";
    options.http = kind;
    options.size = 1000;
    options.requests = 1000;
    options.verify = true;
    auto result = loadgen::Run(options);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->requests, 1000u) << HttpRequestName(kind);
    EXPECT_EQ(result->errors.total(), 0u) << FormatText(*result);
  }
}

TEST(LoadgenTest, NoServerIsAnErrorNotAHang) {
  // Find a port nobody listens on: bind one, note it, close it.
  std::string address;
  {
    auto fd = core::Listen(*core::SocketAddress::Parse("127.0.0.1:0"), {1, false});
    ASSERT_TRUE(fd.ok());
    address = core::LocalAddress(fd->get())->ToString();
  }
  Options options = Base(address);
  options.requests = 10;
  auto result = loadgen::Run(options);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(std::string(result.status().message()).find("no connection"), std::string::npos)
      << result.status();
}

TEST(LoadgenTest, RejectsInvalidOptions) {
  Options options = Base("127.0.0.1:1");
  options.connections = 0;
  EXPECT_FALSE(loadgen::Run(options).ok());
  options = Base("not-a-target");
  EXPECT_FALSE(loadgen::Run(options).ok());
  options = Base("127.0.0.1:1");
  options.pipeline = 0;
  EXPECT_FALSE(loadgen::Run(options).ok());
}

// The text report's figures, read back: "Requests/sec: X", "N requests in Ts", latency rows.
struct TextFigures {
  std::string requests_per_second;
  std::string requests;
  std::vector<std::string> latency;  // mean stdev p50 p90 p99 p99.9 p99.99 max
  std::string errors_total;
};

TextFigures ParseText(const std::string& text) {
  TextFigures figures;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string first;
    words >> first;
    if (first == "Requests/sec:") words >> figures.requests_per_second;
    if (first == "Errors:") words >> figures.errors_total;
    if (line.find(" requests in ") != std::string::npos) figures.requests = first;
    if (first == "all" || first == "corrected") {
      std::string value;
      while (words >> value) figures.latency.push_back(value);
    }
  }
  return figures;
}

TEST(LoadgenTest, JsonParsesAndMatchesTheTextReport) {
  auto server = StartServer("echo");
  ASSERT_NE(server, nullptr);
  for (double rate : {0.0, 4000.0}) {
    Options options = Base(server->address_text());
    options.requests = 2000;
    options.rate = rate;
    options.verify = true;
    auto result = loadgen::Run(options);
    ASSERT_TRUE(result.ok()) << result.status();
    const std::string text = FormatText(*result);
    auto json = JsonReader::Parse(FormatJson(*result));
    ASSERT_TRUE(json.has_value()) << FormatJson(*result);
    const TextFigures figures = ParseText(text);

    EXPECT_EQ((*json)["requests"].number, 2000);
    EXPECT_EQ(figures.requests, "2000") << text;
    EXPECT_EQ(figures.requests_per_second,
              absl::StrFormat("%.2f", (*json)["requests_per_second"].number))
        << text;
    EXPECT_EQ(figures.errors_total, absl::StrFormat("%.0f", (*json)["errors"]["total"].number));
    EXPECT_EQ((*json)["config"]["mode"].string, rate > 0 ? "open" : "closed");
    EXPECT_EQ((*json)["config"]["connections"].number, 4);
    EXPECT_TRUE((*json)["config"]["verify"].boolean);
    EXPECT_EQ((*json)["verified"].number, static_cast<double>(result->verified));
    EXPECT_FALSE((*json)["verification_failed"].boolean);

    const Json& latency = (*json)["latency_ns"]["corrected"];
    ASSERT_EQ(figures.latency.size(), 8u) << text;
    const char* keys[] = {"mean", "stdev", "p50", "p90", "p99", "p99_9", "p99_99", "max"};
    for (size_t i = 0; i < 8; ++i) {
      ASSERT_TRUE(latency.has(keys[i])) << keys[i];
      EXPECT_EQ(figures.latency[i], FormatLatency(latency[keys[i]].number)) << keys[i];
    }
    EXPECT_EQ(latency["count"].number, 2000);
    EXPECT_EQ(latency["p99"].number, static_cast<double>(result->latency.ValueAtPercentile(99)));
    EXPECT_EQ((*json)["latency_ns"]["uncorrected"]["count"].number, 2000);
  }
}

}  // namespace
}  // namespace shoal::loadgen
