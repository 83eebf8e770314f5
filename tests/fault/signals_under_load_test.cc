// Signals under load against the real binary, load from the loadgen library with --verify:
//   - SIGTERM mid-load: no response is corrupted or truncated (verify mismatches and protocol
//     errors 0; the EOFs/resets/refused connects after the drain are counted by kind), exit 0
//     within timeouts.drain;
//   - connections sitting in the accept queue at SIGTERM (the server is SIGSTOPped while they
//     connect and send a frame) are accepted and answered, then closed; never reset mid-stream;
//   - SIGHUP with an invalid file mid-load: "config rejected", /config unchanged, zero errors and
//     no reconnects.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/echo_wire.h"
#include "tests/support/http_client.h"
#include "tests/support/shoal_process.h"
#include "tests/support/subprocess.h"
#include "tools/loadgen/loadgen.h"

namespace shoal::testing {
namespace {

constexpr int kDrainS = 5;

std::string Config(const std::string& drain = "5s") {
  return EchoServerConfig(2, "timeouts:\n  drain: " + drain + "\n");
}

loadgen::Options LoadOptions(uint16_t port, double seconds, std::atomic<uint64_t>* completed) {
  loadgen::Options o;
  o.targets = {"127.0.0.1:" + std::to_string(port)};
  o.connections = 32;
  o.threads = 2;
  o.duration_ns = static_cast<int64_t>(seconds * 1e9);
  o.size = 1024;
  o.pipeline = 4;
  o.verify = true;
  o.timeout_ns = 10'000'000'000;
  o.progress_interval_ns = 100'000'000;
  o.on_progress = [completed](const loadgen::Progress& p) { completed->store(p.completed); };
  return o;
}

std::string Errors(const loadgen::ErrorCounts& e) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "connect=%llu reset=%llu timeout=%llu eof=%llu mismatch=%llu status=%llu "
                "protocol=%llu",
                (unsigned long long)e.connect, (unsigned long long)e.reset,
                (unsigned long long)e.timeout, (unsigned long long)e.eof,
                (unsigned long long)e.mismatch, (unsigned long long)e.status,
                (unsigned long long)e.protocol);
  return buf;
}

TEST(SignalsUnderLoad, SigtermMidLoadNoCorruptFrameExitsZeroWithinDrain) {
  Subprocess server({ShoalBinaryPath(), "--config=" + WriteTempFile("term.yaml", Config())});
  ShoalPorts s = WaitForPorts(server);
  ASSERT_TRUE(s.started()) << server.err();
  const uint16_t port = static_cast<uint16_t>(s.listener);

  std::atomic<uint64_t> completed{0};
  absl::StatusOr<loadgen::Result> result = absl::UnknownError("not run");
  std::thread load([&] { result = loadgen::Run(LoadOptions(port, 4.0, &completed)); });
  // Full load established: thousands of verified responses before the signal.
  bool loaded = WaitFor([&] { return completed.load() > 5000; }, std::chrono::seconds(20));
  const uint64_t at_signal = completed.load();
  const auto signalled = Clock::now();
  server.Signal(SIGTERM);
  std::optional<int> exit_code = server.Wait(milliseconds((kDrainS + 5) * 1000));
  const double exit_s = std::chrono::duration<double>(Clock::now() - signalled).count();
  load.join();
  ASSERT_TRUE(loaded) << "load never ramped up";
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(exit_code, std::optional<int>(0)) << server.err();
  EXPECT_LT(exit_s, kDrainS);
  const loadgen::ErrorCounts& e = result->errors;
  std::printf(
      "FIGURES sigterm: responses before signal %llu, verified=%llu lost_in_flight=%llu, "
      "errors %s; exit %d after %.3f s (drain %d s)\n",
      (unsigned long long)at_signal, (unsigned long long)result->verified,
      (unsigned long long)result->lost, Errors(e).c_str(), exit_code.value_or(-1), exit_s,
      kDrainS);
  EXPECT_GT(result->verified, 0u);
  EXPECT_EQ(e.mismatch, 0u) << Errors(e);
  EXPECT_EQ(e.protocol, 0u) << Errors(e);
  EXPECT_EQ(e.timeout, 0u) << Errors(e);
}

TEST(SignalsUnderLoad, AcceptQueueAtSigtermIsAcceptedAndAnsweredNeverReset) {
  Subprocess server({ShoalBinaryPath(), "--config=" + WriteTempFile("queue.yaml", Config())});
  ShoalPorts s = WaitForPorts(server);
  ASSERT_TRUE(s.started()) << server.err();
  const uint16_t port = static_cast<uint16_t>(s.listener);

  // Freeze the server so the connections stay in the listeners' accept queues, then connect,
  // send one frame each, and deliver SIGTERM before it runs again.
  constexpr size_t kQueued = 16;
  server.Signal(SIGSTOP);
  auto fds_or = ConnectMany(port, kQueued, Deadline::In(std::chrono::seconds(10)));
  ASSERT_TRUE(fds_or.ok()) << fds_or.status();
  std::vector<std::string> frames;
  for (size_t i = 0; i < kQueued; ++i) {
    frames.push_back(EncodeFrame("queued connection " + std::to_string(i)));
    ASSERT_TRUE(SendAll((*fds_or)[i].get(), frames[i], Deadline::In(std::chrono::seconds(5))).ok());
  }
  server.Signal(SIGTERM);
  server.Signal(SIGCONT);

  size_t answered = 0, refused = 0;
  for (size_t i = 0; i < kQueued; ++i) {
    int fd = (*fds_or)[i].get();
    std::string data;
    EndKind first = WaitForEnd(fd, Deadline::In(std::chrono::seconds(10)), &data);
    if (first == EndKind::kData) {
      if (data.size() < frames[i].size()) {
        auto rest = ReadExactly(fd, frames[i].size() - data.size(),
                                Deadline::In(std::chrono::seconds(10)));
        ASSERT_TRUE(rest.ok()) << "connection " << i << " truncated: " << rest.status();
        data += *rest;
      }
      ASSERT_EQ(data, frames[i]) << "connection " << i;
      EndKind end = WaitForEnd(fd, Deadline::In(std::chrono::seconds(10)));
      EXPECT_EQ(end, EndKind::kEof) << "connection " << i << ": " << EndKindName(end);
      ++answered;
    } else {
      // Refused: the kernel reset it without the server ever reading it (no data came).
      EXPECT_TRUE(first == EndKind::kReset || first == EndKind::kEof)
          << "connection " << i << ": " << EndKindName(first);
      ++refused;
    }
  }
  EXPECT_EQ(server.Wait(milliseconds((kDrainS + 5) * 1000)), std::optional<int>(0))
      << server.err();
  std::printf("FIGURES accept_queue: %zu queued at SIGTERM: %zu answered then EOF, %zu refused\n",
              kQueued, answered, refused);
  // The drain accepts everything queued before closing its listeners (docs/design.md).
  EXPECT_EQ(answered, kQueued);
}

TEST(SignalsUnderLoad, SighupWithInvalidFileIsRejectedNothingChangesNothingDrops) {
  const std::string path = WriteTempFile("hup.yaml", Config("7s"));
  Subprocess server({ShoalBinaryPath(), "--config=" + path});
  ShoalPorts s = WaitForPorts(server);
  ASSERT_TRUE(s.started()) << server.err();
  const uint16_t port = static_cast<uint16_t>(s.listener);
  auto config_before = HttpGet(s.admin, "/config");
  ASSERT_TRUE(config_before.has_value());

  std::atomic<uint64_t> completed{0};
  absl::StatusOr<loadgen::Result> result = absl::UnknownError("not run");
  std::thread load([&] { result = loadgen::Run(LoadOptions(port, 3.0, &completed)); });
  bool loaded = WaitFor([&] { return completed.load() > 5000; }, std::chrono::seconds(20));
  const size_t from = server.err().size();
  // Invalid: an unknown key and a bad duration.
  WriteTempFile("hup.yaml", Config("7s") + "limits:\n  max_conections: 5\n"
                                                   "timeouts:\n  idle: forever\n");
  server.Signal(SIGHUP);
  auto rejected = server.WaitForStderrLine("config rejected", milliseconds(10000), from);
  const uint64_t at_reload = completed.load();
  load.join();
  ASSERT_TRUE(loaded);
  ASSERT_TRUE(rejected.has_value()) << server.err().substr(from);
  ASSERT_TRUE(result.ok()) << result.status();
  auto config_after = HttpGet(s.admin, "/config");
  ASSERT_TRUE(config_after.has_value());
  EXPECT_EQ(config_after->body, config_before->body);
  const loadgen::ErrorCounts& e = result->errors;
  std::printf(
      "FIGURES sighup_invalid: responses at reload %llu, after run verified=%llu, connects=%llu "
      "(connections %d), errors %s; log: %s\n",
      (unsigned long long)at_reload, (unsigned long long)result->verified,
      (unsigned long long)result->connects, result->options.connections, Errors(e).c_str(),
      rejected->c_str());
  EXPECT_EQ(e.total(), 0u) << Errors(e);
  EXPECT_EQ(result->connects, static_cast<uint64_t>(result->options.connections));
  EXPECT_GT(result->verified, at_reload);
  // Still serving after the rejected reload.
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(milliseconds(15000)), std::optional<int>(0)) << server.err();
}

}  // namespace
}  // namespace shoal::testing
