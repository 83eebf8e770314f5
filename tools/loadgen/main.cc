// loadgen: a load generator for shoal (and any echo/http/resp server). A thin flag wrapper around
// tools/loadgen/loadgen.h (one run) and max_rate.h (--find_max_rate); docs/design.md describes it.
//
// Exit status: 0; 1 when verification failed (--verify and any error) or no request completed;
// 2 for bad flags or when nothing could run (no connection, unresolvable target); 3 when an
// --assert failed or --find_max_rate found no rate meeting the SLO.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "tools/loadgen/flag_values.h"
#include "tools/loadgen/loadgen.h"
#include "tools/loadgen/marks.h"
#include "tools/loadgen/max_rate.h"
#include "tools/loadgen/prometheus_report.h"
#include "tools/loadgen/report.h"
#include "tools/loadgen/server_cpu.h"
#include "tools/loadgen/timeline_report.h"
#include "tools/loadgen/verdict.h"

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
ABSL_FLAG(bool, tls, false, "TLS to every target (OpenSSL); the report adds handshakes/s and "
          "handshake latency");
ABSL_FLAG(std::string, tls_ca, "", "--tls: verify the server certificate against this CA (PEM); "
          "without it nothing is verified (a warning says so)");
ABSL_FLAG(std::string, tls_server_name, "", "--tls: SNI and the name the certificate must carry; "
          "default: the target's host when it is a name (an IP target is checked as an IP)");
ABSL_FLAG(std::string, tls_version, "", "--tls: pin the version, 1.2 or 1.3 (default: either)");
ABSL_FLAG(std::string, tls_ciphers, "", "--tls: offer only these, ':'-separated OpenSSL names "
          "(TLS_* are TLS 1.3 suites, e.g. TLS_AES_128_GCM_SHA256; others TLS 1.2 ciphers)");
ABSL_FLAG(bool, tls_resume, false, "--tls: a reconnect resumes the connection's previous session "
          "(tickets)");
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
ABSL_FLAG(std::string, assert, "", "assertions on the result, comma-separated METRIC OP VALUE "
          "(e.g. 'p99<2ms,errors==0'; metrics p50 p90 p99 p99.9 p99.99 max mean errors connect "
          "reset timeout eof mismatch status protocol tls_handshake rps requests lost failed "
          "unsent cpu_us_per_request handshakes_per_second); exit 3 when one fails");
ABSL_FLAG(bool, find_max_rate, false, "search the highest constant open-loop rate meeting --slo "
          "(doubling from --rate or 1000, then bisecting to 5 %); each step runs --duration "
          "(default 2s)");
ABSL_FLAG(std::string, slo, "p99<1ms", "the SLO of --find_max_rate, in --assert's syntax; a step "
          "also needs every request answered well");
ABSL_FLAG(std::string, prometheus_out, "", "write the result in the Prometheus text format here");
ABSL_FLAG(int, server_pid, 0, "report the server's CPU microseconds per request: utime+stime of "
          "/proc/PID/stat over the measured window");
ABSL_FLAG(std::string, server_metrics, "", "the same from process_cpu_seconds_total at this URL "
          "(http://HOST:PORT/metrics)");
ABSL_FLAG(bool, quiet, false, "no text summary on stdout");

namespace {

namespace lg = shoal::loadgen;

constexpr int kExitUsage = 2;
constexpr int kExitAssertion = 3;
constexpr int64_t kDefaultDurationNs = 10'000'000'000;
constexpr int64_t kDefaultStepNs = 2'000'000'000;

absl::Status FlagError(absl::string_view flag, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", message));
}

// Durations are string flags parsed here (an absl::Duration flag uses a sequence lock whose fence
// ThreadSanitizer builds reject).
absl::Status ParseDurationFlag(absl::string_view flag, const std::string& text, int64_t* ns) {
  auto parsed = lg::ParseDurationNs(text);
  if (!parsed.ok()) return FlagError(flag, parsed.status().message());
  *ns = *parsed;
  return absl::OkStatus();
}

// Every flag that shapes a run, into Options (callbacks excepted).
absl::StatusOr<lg::Options> OptionsFromFlags() {
  lg::Options options;
  for (absl::string_view target :
       absl::StrSplit(absl::GetFlag(FLAGS_target), ',', absl::SkipWhitespace())) {
    options.targets.emplace_back(target);
  }
  const std::string protocol = absl::GetFlag(FLAGS_protocol);
  if (!lg::KnownProtocol(protocol)) {
    std::string names;
    for (std::string_view name : lg::ProtocolNames()) absl::StrAppend(&names, " ", std::string(name));
    return FlagError("protocol", absl::StrCat("must be one of", names, ", not '", protocol, "'"));
  }
  options.protocol = protocol;
  if (!lg::ParseHttpRequest(absl::GetFlag(FLAGS_http), &options.http)) {
    return FlagError("http", "must be plaintext or echo");
  }
  auto size = lg::ParseByteSize(absl::GetFlag(FLAGS_size));
  if (!size.ok()) return FlagError("size", size.status().message());
  options.size = *size;
  auto rate = lg::RateSchedule::Parse(absl::GetFlag(FLAGS_rate));
  if (!rate.ok()) return FlagError("rate", rate.status().message());
  options.rate = *rate;
  options.connections = absl::GetFlag(FLAGS_connections);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.requests = absl::GetFlag(FLAGS_requests);
  options.pipeline = absl::GetFlag(FLAGS_pipeline);
  options.verify = absl::GetFlag(FLAGS_verify);
  options.nodelay = absl::GetFlag(FLAGS_nodelay);
  options.reconnect_every = absl::GetFlag(FLAGS_reconnect_every);
  options.connect_rate = absl::GetFlag(FLAGS_connect_rate);
  options.tls.enabled = absl::GetFlag(FLAGS_tls);
  options.tls.ca_file = absl::GetFlag(FLAGS_tls_ca);
  options.tls.server_name = absl::GetFlag(FLAGS_tls_server_name);
  options.tls.version = absl::GetFlag(FLAGS_tls_version);
  options.tls.ciphers = absl::GetFlag(FLAGS_tls_ciphers);
  options.tls.resume = absl::GetFlag(FLAGS_tls_resume);
  options.timeline =
      !absl::GetFlag(FLAGS_timeline).empty() || !absl::GetFlag(FLAGS_interval_log).empty();
  const std::string duration = absl::GetFlag(FLAGS_duration);
  if (duration.empty()) {
    options.duration_ns = absl::GetFlag(FLAGS_find_max_rate) ? kDefaultStepNs
                          : options.rate.length_ns() > 0     ? options.rate.length_ns()
                                                             : kDefaultDurationNs;
  } else if (auto status = ParseDurationFlag("duration", duration, &options.duration_ns);
             !status.ok()) {
    return status;
  }
  for (auto [flag, text, ns] :
       {std::tuple{"warmup", absl::GetFlag(FLAGS_warmup), &options.warmup_ns},
        std::tuple{"hold", absl::GetFlag(FLAGS_hold), &options.hold_ns},
        std::tuple{"timeout", absl::GetFlag(FLAGS_timeout), &options.timeout_ns},
        std::tuple{"connect_timeout", absl::GetFlag(FLAGS_connect_timeout),
                   &options.connect_timeout_ns}}) {
    if (auto status = ParseDurationFlag(flag, text, ns); !status.ok()) return status;
  }
  const int server_pid = absl::GetFlag(FLAGS_server_pid);
  const std::string server_metrics = absl::GetFlag(FLAGS_server_metrics);
  if (server_pid != 0 && !server_metrics.empty()) {
    return FlagError("server_pid", "give --server_pid or --server_metrics, not both");
  }
  if (server_pid < 0) return FlagError("server_pid", "must be a process id");
  if (server_pid > 0) options.server_cpu = lg::ProcCpuSampler(server_pid);
  if (!server_metrics.empty()) options.server_cpu = lg::MetricsCpuSampler(server_metrics);
  if (auto status = lg::ValidateOptions(options); !status.ok()) return status;
  return options;
}

absl::StatusOr<std::vector<lg::Assertion>> AssertionsFromFlag(absl::string_view flag,
                                                              const std::string& text) {
  auto assertions = lg::ParseAssertions(text);
  if (!assertions.ok()) return FlagError(flag, assertions.status().message());
  return assertions;
}

// The live progress line on a terminal, and the hold notice.
void AddCallbacks(lg::Options& options) {
  const bool tty = isatty(STDERR_FILENO) == 1;
  if (tty) {
    struct Previous {
      double elapsed = 0;
      uint64_t completed = 0;
      uint64_t bytes = 0;
    };
    options.on_progress = [previous = Previous{}](const lg::Progress& progress) mutable {
      std::string line = lg::FormatProgress(progress, previous.elapsed, previous.completed,
                                            previous.bytes);
      previous = {progress.elapsed_s, progress.completed, progress.bytes_received};
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      std::fflush(stderr);
    };
  }
  options.on_hold = [tty, hold_s = static_cast<double>(options.hold_ns) / 1e9](int open) {
    if (tty) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "loadgen: holding %d connections for %.1fs\n", open, hold_s);
    std::fflush(stderr);
  };
}

void ClearProgressLine() {
  if (isatty(STDERR_FILENO) == 1) std::fprintf(stderr, "\r\033[K");
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

// Every output file the flags ask for.
bool WriteOutputs(const lg::Result& result, const lg::PrometheusExtras& extras) {
  struct Output {
    std::string path;
    std::function<std::string()> format;
  };
  const Output outputs[] = {
      {absl::GetFlag(FLAGS_json), [&] { return lg::FormatJson(result); }},
      {absl::GetFlag(FLAGS_hgrm), [&] { return lg::FormatHgrm(result.latency); }},
      {absl::GetFlag(FLAGS_hgrm_uncorrected),
       [&] { return lg::FormatHgrm(result.latency_uncorrected); }},
      {absl::GetFlag(FLAGS_timeline), [&] { return lg::FormatTimeline(result, lg::MarksSoFar()); }},
      {absl::GetFlag(FLAGS_interval_log), [&] { return lg::FormatIntervalLog(result); }},
      {absl::GetFlag(FLAGS_prometheus_out), [&] { return lg::FormatPrometheus(result, extras); }},
  };
  bool written = true;
  for (const auto& output : outputs) {
    if (!output.path.empty()) written &= WriteFile(output.path, output.format());
  }
  if (!written) std::cerr << "loadgen: could not write an output file\n";
  return written;
}

// Prints the assertions' outcomes; whether all held.
bool Check(const std::vector<lg::Assertion>& assertions, const lg::Result& result) {
  if (assertions.empty()) return true;
  auto outcomes = lg::Evaluate(assertions, result);
  std::cout << "Assertions:\n" << lg::FormatOutcomes(outcomes) << std::flush;
  return lg::AllPassed(outcomes);
}

int RunOnce(const lg::Options& options, const std::vector<lg::Assertion>& assertions) {
  auto result = lg::Run(options);
  ClearProgressLine();
  if (!result.ok()) {
    std::cerr << "loadgen: " << result.status().message() << "\n";
    return kExitUsage;
  }
  if (!absl::GetFlag(FLAGS_quiet)) std::cout << lg::FormatText(*result) << std::flush;
  const bool held = Check(assertions, *result);
  lg::PrometheusExtras extras;
  if (!assertions.empty()) extras.assertions_passed = held;
  if (!WriteOutputs(*result, extras)) return kExitUsage;
  if (!held) return kExitAssertion;
  return lg::ExitCode(*result);
}

int RunFindMaxRate(const lg::Options& options, std::vector<lg::Assertion> slo) {
  lg::MaxRateOptions search;
  search.run = options;
  search.run.on_progress = nullptr;
  search.run.on_hold = nullptr;
  search.slo = std::move(slo);
  if (options.rate.constant() && options.rate.final_rate() > 0) {
    search.start_rate = options.rate.final_rate();
  }
  search.on_step = [](const lg::MaxRateStep& step) {
    const lg::Result& r = step.result;
    std::cout << absl::StrFormat("step %.0f req/s: %s (p99 %s, errors %d, lost %d, unsent %d)\n",
                                 step.rate, step.held ? "held" : "failed",
                                 lg::FormatLatency(r.latency.ValueAtPercentile(99)),
                                 r.errors.total(), r.lost, r.unsent)
              << std::flush;
  };
  auto found = lg::FindMaxRate(search);
  if (!found.ok()) {
    std::cerr << "loadgen: " << found.status().message() << "\n";
    return kExitUsage;
  }
  const std::string slo_text = absl::GetFlag(FLAGS_slo);
  if (!found->best_step) {
    std::cout << "Max rate: none met " << slo_text << "\n";
    return kExitAssertion;
  }
  std::cout << absl::StrFormat("Max rate: %.0f req/s meets %s", found->max_rate, slo_text);
  if (found->failed_rate) std::cout << absl::StrFormat(" (%.0f req/s did not)", *found->failed_rate);
  std::cout << "\n";
  const lg::Result& best = found->steps[*found->best_step].result;
  if (!absl::GetFlag(FLAGS_quiet)) std::cout << lg::FormatText(best) << std::flush;
  lg::PrometheusExtras extras;
  extras.max_rate = found->max_rate;
  extras.slo = slo_text;
  return WriteOutputs(best, extras) ? 0 : kExitUsage;
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
      "--threads=T (--duration=10s | --requests=N) --size=64 --pipeline=D [--rate=R|A:B:DURATION] "
      "[--warmup=2s] [--verify] [--json=FILE] [--hgrm=FILE] [--timeline=FILE] "
      "[--assert='p99<2ms,errors==0'] [--find_max_rate --slo='p99<1ms'] [--server_pid=PID] "
      "[--tls [--tls_ca=FILE] [--tls_server_name=NAME]]");
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    std::cerr << "loadgen: unexpected argument '" << positional[1] << "'\n";
    return kExitUsage;
  }
  auto options = OptionsFromFlags();
  if (!options.ok()) {
    std::cerr << "loadgen: " << options.status().message() << "\n";
    return kExitUsage;
  }
  if (options->tls.enabled && options->tls.ca_file.empty()) {
    std::cerr << "loadgen: warning: --tls without --tls_ca: the server certificate is not "
                 "verified\n";
  }
  std::vector<lg::Assertion> assertions;
  if (!absl::GetFlag(FLAGS_assert).empty()) {
    auto parsed = AssertionsFromFlag("assert", absl::GetFlag(FLAGS_assert));
    if (!parsed.ok()) {
      std::cerr << "loadgen: " << parsed.status().message() << "\n";
      return kExitUsage;
    }
    assertions = std::move(*parsed);
  }
  if (absl::GetFlag(FLAGS_mark_signal)) {
    if (auto status = lg::InstallMarkSignal(SIGUSR1); !status.ok()) {
      std::cerr << "loadgen: --mark_signal: " << status.message() << "\n";
      return kExitUsage;
    }
  }
  if (absl::GetFlag(FLAGS_find_max_rate)) {
    auto slo = AssertionsFromFlag("slo", absl::GetFlag(FLAGS_slo));
    if (!slo.ok()) {
      std::cerr << "loadgen: " << slo.status().message() << "\n";
      return kExitUsage;
    }
    return RunFindMaxRate(*options, std::move(*slo));
  }
  AddCallbacks(*options);
  return RunOnce(*options, assertions);
}
