// loadgen: a load generator for shoal (and any echo/http/resp server). A thin flag wrapper around
// tools/loadgen/loadgen.h; docs/design.md and docs/bench/loadgen.md describe it.
//
// Exit status: 0; 1 when verification failed (--verify and any error) or no request completed;
// 2 for bad flags or when nothing could run (no connection, unresolvable target).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "tools/loadgen/flag_values.h"
#include "tools/loadgen/loadgen.h"
#include "tools/loadgen/marks.h"
#include "tools/loadgen/report.h"
#include "tools/loadgen/timeline_report.h"

ABSL_FLAG(std::string, target, "127.0.0.1:7000", "HOST:PORT[,HOST:PORT...]; connections are "
          "spread round-robin over the targets");
ABSL_FLAG(std::string, protocol, "echo", "echo | http | resp");
ABSL_FLAG(std::string, http, "plaintext", "http requests: plaintext (GET /plaintext) or echo "
          "(POST /echo with a --size body)");
ABSL_FLAG(int, connections, 10, "connections in total");
ABSL_FLAG(int, threads, 1, "threads, each with its own event loop");
ABSL_FLAG(std::string, duration, "", "measurement time (e.g. 10s, 500ms); default: the --rate "
          "phases' length, or 10s");
ABSL_FLAG(int64_t, requests, -1, "exactly this many measured requests instead of --duration");
ABSL_FLAG(std::string, warmup, "0s", "load before measuring (not reported)");
ABSL_FLAG(std::string, hold, "0s", "after the load, keep every connection "
          "open and idle this long");
ABSL_FLAG(std::string, size, "64", "payload bytes (echo frame, POST body, RESP ECHO argument); "
          "KiB/MiB suffixes allowed");
ABSL_FLAG(int, pipeline, 1, "requests in flight per connection (the cap in open loop)");
ABSL_FLAG(std::string, rate, "0", "open loop: requests/s in total, evenly paced (0 = closed "
          "loop); or phases R:DURATION (constant) and A:B:DURATION (linear ramp), comma-separated, "
          "the last rate holding after them (e.g. 1000:5000:20s or 1000:5s,2000:5s)");
ABSL_FLAG(bool, verify, false, "check every response byte for byte; exit 1 on any error");
ABSL_FLAG(std::string, timeout, "10s", "a response must arrive within this");
ABSL_FLAG(std::string, connect_timeout, "5s", "connect() must finish within this");
ABSL_FLAG(int64_t, reconnect_every, 0, "requests per connection, then it closes (once they are "
          "answered) and a new one opens; 0 = keep connections");
ABSL_FLAG(double, connect_rate, 0, "connect attempts per second in total (first connects and "
          "reconnects); 0 = unlimited");
ABSL_FLAG(bool, nodelay, true, "TCP_NODELAY on the client sockets");
ABSL_FLAG(std::string, json, "", "write every figure as JSON to this file ('-' = stdout)");
ABSL_FLAG(std::string, hgrm, "", "write the (corrected) latency percentile distribution here");
ABSL_FLAG(std::string, hgrm_uncorrected, "", "write the uncorrected distribution here");
ABSL_FLAG(std::string, timeline, "", "write one JSON line per second of the load here (t, "
          "requests, errors by kind, p50, p99, max in ns, connections), and a line per mark");
ABSL_FLAG(std::string, interval_log, "", "write an HdrHistogram-style interval log here (CSV: "
          "per second and cumulative percentiles, ms)");
ABSL_FLAG(bool, mark_signal, false, "SIGUSR1 marks the time it arrives in the --timeline (to "
          "locate an upgrade or a reload)");
ABSL_FLAG(bool, quiet, false, "no text summary on stdout");

namespace {

using shoal::loadgen::Options;

constexpr int kExitUsage = 2;

// Durations are string flags parsed here (an absl::Duration flag uses a sequence lock whose fence
// ThreadSanitizer builds reject).
bool ParseDurationFlag(const char* name, const std::string& text, int64_t* ns) {
  auto parsed = shoal::loadgen::ParseDurationNs(text);
  if (!parsed.ok()) {
    std::cerr << "loadgen: --" << name << ": " << parsed.status().message() << "\n";
    return false;
  }
  *ns = *parsed;
  return true;
}

bool WriteFile(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::cout << text;
    return true;
  }
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  // absl's --help lists only the flags of a file named like the program; list all of them.
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view) { return true; };
  usage.contains_helpshort_flags = [](absl::string_view) { return true; };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "loadgen --target=HOST:PORT[,HOST:PORT...] --protocol=echo|http|resp --connections=N "
      "--threads=T (--duration=10s | --requests=N) --size=64 --pipeline=D [--rate=R] "
      "[--warmup=2s] [--verify] [--json=FILE] [--hgrm=FILE]");
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    std::cerr << "loadgen: unexpected argument '" << positional[1] << "'\n";
    return kExitUsage;
  }

  Options options;
  for (absl::string_view target :
       absl::StrSplit(absl::GetFlag(FLAGS_target), ',', absl::SkipWhitespace())) {
    options.targets.emplace_back(target);
  }
  const std::string protocol = absl::GetFlag(FLAGS_protocol);
  if (!shoal::loadgen::KnownProtocol(protocol)) {
    std::cerr << "loadgen: --protocol must be one of";
    for (std::string_view name : shoal::loadgen::ProtocolNames()) std::cerr << " " << name;
    std::cerr << ", not '" << protocol << "'\n";
    return kExitUsage;
  }
  options.protocol = protocol;
  const std::string http = absl::GetFlag(FLAGS_http);
  if (!shoal::loadgen::ParseHttpRequest(http, &options.http)) {
    std::cerr << "loadgen: --http must be plaintext or echo, not '" << http << "'\n";
    return kExitUsage;
  }
  if (auto size = shoal::loadgen::ParseByteSize(absl::GetFlag(FLAGS_size)); size.ok()) {
    options.size = *size;
  } else {
    std::cerr << "loadgen: --size: " << size.status().message() << "\n";
    return kExitUsage;
  }
  options.connections = absl::GetFlag(FLAGS_connections);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.requests = absl::GetFlag(FLAGS_requests);
  options.pipeline = absl::GetFlag(FLAGS_pipeline);
  if (auto rate = shoal::loadgen::RateSchedule::Parse(absl::GetFlag(FLAGS_rate)); rate.ok()) {
    options.rate = *rate;
  } else {
    std::cerr << "loadgen: --rate: " << rate.status().message() << "\n";
    return kExitUsage;
  }
  options.verify = absl::GetFlag(FLAGS_verify);
  if (absl::GetFlag(FLAGS_duration).empty()) {
    if (options.rate.length_ns() > 0) options.duration_ns = options.rate.length_ns();
  } else if (!ParseDurationFlag("duration", absl::GetFlag(FLAGS_duration), &options.duration_ns)) {
    return kExitUsage;
  }
  if (!ParseDurationFlag("warmup", absl::GetFlag(FLAGS_warmup), &options.warmup_ns) ||
      !ParseDurationFlag("hold", absl::GetFlag(FLAGS_hold), &options.hold_ns) ||
      !ParseDurationFlag("timeout", absl::GetFlag(FLAGS_timeout), &options.timeout_ns) ||
      !ParseDurationFlag("connect_timeout", absl::GetFlag(FLAGS_connect_timeout),
                         &options.connect_timeout_ns)) {
    return kExitUsage;
  }
  options.nodelay = absl::GetFlag(FLAGS_nodelay);
  options.reconnect_every = absl::GetFlag(FLAGS_reconnect_every);
  options.connect_rate = absl::GetFlag(FLAGS_connect_rate);
  options.timeline =
      !absl::GetFlag(FLAGS_timeline).empty() || !absl::GetFlag(FLAGS_interval_log).empty();
  if (absl::GetFlag(FLAGS_mark_signal)) {
    if (auto status = shoal::loadgen::InstallMarkSignal(SIGUSR1); !status.ok()) {
      std::cerr << "loadgen: --mark_signal: " << status.message() << "\n";
      return kExitUsage;
    }
  }
  if (auto status = shoal::loadgen::ValidateOptions(options); !status.ok()) {
    std::cerr << "loadgen: " << status.message() << "\n";
    return kExitUsage;
  }

  const bool tty = isatty(STDERR_FILENO) == 1;
  double previous_elapsed = 0;
  uint64_t previous_completed = 0, previous_bytes = 0;
  if (tty) {
    options.on_progress = [&](const shoal::loadgen::Progress& progress) {
      std::string line = shoal::loadgen::FormatProgress(progress, previous_elapsed,
                                                        previous_completed, previous_bytes);
      previous_elapsed = progress.elapsed_s;
      previous_completed = progress.completed;
      previous_bytes = progress.bytes_received;
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      std::fflush(stderr);
    };
  }
  options.on_hold = [&](int open) {
    if (tty) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "loadgen: holding %d connections for %.1fs\n", open,
                 static_cast<double>(options.hold_ns) / 1e9);
    std::fflush(stderr);
  };

  auto result = shoal::loadgen::Run(options);
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (!result.ok()) {
    std::cerr << "loadgen: " << result.status().message() << "\n";
    return kExitUsage;
  }
  if (!absl::GetFlag(FLAGS_quiet)) std::cout << shoal::loadgen::FormatText(*result) << std::flush;
  bool written = true;
  if (!absl::GetFlag(FLAGS_json).empty()) {
    written &= WriteFile(absl::GetFlag(FLAGS_json), shoal::loadgen::FormatJson(*result));
  }
  if (!absl::GetFlag(FLAGS_hgrm).empty()) {
    written &= WriteFile(absl::GetFlag(FLAGS_hgrm), shoal::loadgen::FormatHgrm(result->latency));
  }
  if (!absl::GetFlag(FLAGS_hgrm_uncorrected).empty()) {
    written &= WriteFile(absl::GetFlag(FLAGS_hgrm_uncorrected),
                         shoal::loadgen::FormatHgrm(result->latency_uncorrected));
  }
  if (!absl::GetFlag(FLAGS_timeline).empty()) {
    written &= WriteFile(absl::GetFlag(FLAGS_timeline),
                         shoal::loadgen::FormatTimeline(*result, shoal::loadgen::MarksSoFar()));
  }
  if (!absl::GetFlag(FLAGS_interval_log).empty()) {
    written &= WriteFile(absl::GetFlag(FLAGS_interval_log),
                         shoal::loadgen::FormatIntervalLog(*result));
  }
  if (!written) {
    std::cerr << "loadgen: could not write an output file\n";
    return kExitUsage;
  }
  return shoal::loadgen::ExitCode(*result);
}
