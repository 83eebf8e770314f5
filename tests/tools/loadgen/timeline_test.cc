// The timeline against an in-process server that drops connections (so there are errors to
// place): its lines parse, sum exactly to the run's totals by kind, and marks land after the
// second they fell in; the interval log's cumulative count is the run's total.
#include "tools/loadgen/timeline_report.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "tests/support/test_server.h"
#include "tests/tools/loadgen/faulty_echo.h"
#include "tests/tools/loadgen/mini_json.h"
#include "tools/loadgen/loadgen.h"

namespace shoal::loadgen {
namespace {

using testing::Fault;
using testing::FaultyEcho;
using testing::TestServer;
using testing::TestServerOptions;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(TimelineTest, SecondsSumToTheTotalsAndMarksFollowTheirSecond) {
  FaultyEcho faulty(Fault::kDropAt, 150);
  TestServerOptions server_options;
  server_options.factory = faulty.factory();
  auto server = TestServer::Start(server_options);
  ASSERT_TRUE(server.ok()) << server.status();

  Options options;
  options.targets = {(*server)->address_text()};
  options.connections = 4;
  options.threads = 2;
  options.pipeline = 2;
  options.size = 16;
  options.rate = 2000;
  options.warmup_ns = 200'000'000;
  options.duration_ns = 1'300'000'000;
  options.timeline = true;
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_GT(result->errors.total(), 0u);
  ASSERT_GT(result->requests, 0u);

  const std::vector<int64_t> marks = {result->start_ns + 1'250'000'000,
                                      result->start_ns + 100'000'000};
  const std::vector<std::string> lines = Lines(FormatTimeline(*result, marks));
  ASSERT_GE(lines.size(), 3u);
  uint64_t requests = 0;
  ErrorCounts errors;
  std::vector<double> mark_times;
  double previous_t = -1;
  size_t seconds = 0;
  for (const auto& line : lines) {
    auto json = testing::JsonReader::Parse(line);
    ASSERT_TRUE(json.has_value()) << line;
    const double t = (*json)["t"].number;
    EXPECT_GE(t, previous_t) << line;  // in time order
    previous_t = t;
    if (json->has("mark")) {
      mark_times.push_back(t);
      EXPECT_EQ((*json)["mark"].number, static_cast<double>(mark_times.size()));
      continue;
    }
    EXPECT_EQ(t, static_cast<double>(seconds++));
    requests += static_cast<uint64_t>((*json)["requests"].number);
    const testing::Json& e = (*json)["errors"];
    errors.connect += static_cast<uint64_t>(e["connect"].number);
    errors.reset += static_cast<uint64_t>(e["reset"].number);
    errors.timeout += static_cast<uint64_t>(e["timeout"].number);
    errors.eof += static_cast<uint64_t>(e["eof"].number);
    errors.mismatch += static_cast<uint64_t>(e["mismatch"].number);
    errors.status += static_cast<uint64_t>(e["status"].number);
    errors.protocol += static_cast<uint64_t>(e["protocol"].number);
    EXPECT_GE((*json)["connections"].number, 0) << line;
    EXPECT_LE((*json)["p50"].number, (*json)["p99"].number) << line;
    EXPECT_LE((*json)["p99"].number, (*json)["max"].number) << line;
  }
  EXPECT_EQ(requests, result->requests);
  EXPECT_EQ(errors.total(), result->errors.total());
  EXPECT_EQ(errors.eof, result->errors.eof);
  EXPECT_EQ(errors.reset, result->errors.reset);
  EXPECT_EQ(errors.connect, result->errors.connect);
  EXPECT_EQ(errors.mismatch, result->errors.mismatch);
  ASSERT_EQ(mark_times.size(), 2u);
  EXPECT_NEAR(mark_times[0], 0.1, 1e-6);
  EXPECT_NEAR(mark_times[1], 1.25, 1e-6);
  // The first second is 200 ms of warm-up and 800 ms measured: at most 1600 measured requests.
  auto first = testing::JsonReader::Parse(lines[0]);
  EXPECT_LE((*first)["requests"].number, 1600);

  const std::vector<std::string> log = Lines(FormatIntervalLog(*result));
  ASSERT_EQ(log.size(), 3 + result->timeline.seconds().size());
  EXPECT_EQ(log[2].rfind("\"Timestamp\",\"Int_Count\"", 0), 0u);
  std::istringstream last(log.back());
  std::string timestamp, interval_count, p50, p90, max, total_count;
  std::getline(last, timestamp, ',');
  std::getline(last, interval_count, ',');
  std::getline(last, p50, ',');
  std::getline(last, p90, ',');
  std::getline(last, max, ',');
  std::getline(last, total_count, ',');
  EXPECT_EQ(total_count, std::to_string(result->requests)) << log.back();
}

TEST(TimelineTest, DisabledTimelineRecordsNothing) {
  auto server = TestServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  Options options;
  options.targets = {(*server)->address_text()};
  options.connections = 2;
  options.requests = 100;
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->timeline.seconds().empty());
}

}  // namespace
}  // namespace shoal::loadgen
