#include "tools/loadgen/loadgen.h"

#include <netdb.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/event_loop.h"
#include "tools/loadgen/load_thread.h"

namespace shoal::loadgen {

namespace {

// "host:port" -> host (brackets removed) and port; false when there is no port.
bool SplitHostPort(const std::string& text, std::string* host, std::string* port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) return false;
  *host = text.substr(0, colon);
  *port = text.substr(colon + 1);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return !host->empty();
}

absl::StatusOr<core::SocketAddress> Resolve(const std::string& target) {
  if (auto numeric = core::SocketAddress::Parse(target); numeric.ok()) return *numeric;
  std::string host, port;
  if (!SplitHostPort(target, &host, &port)) {
    return absl::InvalidArgumentError(absl::StrCat("target '", target, "' is not HOST:PORT"));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* results = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &results);
  if (rc != 0 || results == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve target '", target, "': ", gai_strerror(rc)));
  }
  auto address = core::SocketAddress::FromSockaddr(results->ai_addr, results->ai_addrlen);
  freeaddrinfo(results);
  return address;
}

std::string HostOf(const std::string& target) {
  std::string host, port;
  if (!SplitHostPort(target, &host, &port)) return target;
  return host;
}

}  // namespace

absl::Status ValidateOptions(const Options& options) {
  if (options.targets.empty()) return absl::InvalidArgumentError("no --target");
  if (options.connections < 1) return absl::InvalidArgumentError("--connections must be >= 1");
  if (options.threads < 1) return absl::InvalidArgumentError("--threads must be >= 1");
  if (options.pipeline < 1) return absl::InvalidArgumentError("--pipeline must be >= 1");
  if (!options.rate.valid()) return absl::InvalidArgumentError("--rate must be >= 0");
  if (options.reconnect_every < 0) {
    return absl::InvalidArgumentError("--reconnect_every must be >= 0");
  }
  if (options.connect_rate < 0) return absl::InvalidArgumentError("--connect_rate must be >= 0");
  if (options.requests < 0 && options.duration_ns <= 0) {
    return absl::InvalidArgumentError("--duration must be > 0 (or give --requests)");
  }
  if (options.warmup_ns < 0 || options.hold_ns < 0) {
    return absl::InvalidArgumentError("--warmup and --hold must be >= 0");
  }
  if (options.timeout_ns <= 0 || options.connect_timeout_ns <= 0) {
    return absl::InvalidArgumentError("--timeout and --connect_timeout must be > 0");
  }
  if (!options.tls.enabled && (!options.tls.ca_file.empty() || !options.tls.server_name.empty() ||
                               !options.tls.version.empty() || !options.tls.ciphers.empty() ||
                               options.tls.resume)) {
    return absl::InvalidArgumentError("--tls_* options need --tls");
  }
  if (options.protocol == server::kEchoName && options.size > 0xffffffffull) {
    return absl::InvalidArgumentError("--size must fit the echo frame's 32-bit length");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<core::SocketAddress>> ResolveTargets(const Options& options) {
  if (auto status = ValidateOptions(options); !status.ok()) return status;
  std::vector<core::SocketAddress> addresses;
  for (const auto& target : options.targets) {
    auto address = Resolve(target);
    if (!address.ok()) return address.status();
    addresses.push_back(*address);
  }
  return addresses;
}

int ExitCode(const Result& result) {
  if (result.verification_failed()) return 1;
  if (result.options.requests != 0 && result.requests == 0) return 1;
  return 0;
}

absl::StatusOr<Result> Run(const Options& options) {
  auto targets = ResolveTargets(options);
  if (!targets.ok()) return targets.status();

  RunPlan plan;
  plan.codec.protocol = options.protocol;
  plan.codec.size = options.size;
  plan.codec.verify = options.verify;
  plan.codec.http = options.http;
  plan.codec.host = HostOf(options.targets.front());
  plan.connections = options.connections;
  plan.pipeline = options.pipeline;
  plan.open_loop = options.rate.open_loop();
  plan.schedule = options.rate.WithLeadIn(options.warmup_ns);
  plan.requests_mode = options.requests >= 0;
  plan.timeout_ns = options.timeout_ns;
  plan.connect_timeout_ns = options.connect_timeout_ns;
  plan.nodelay = options.nodelay;
  plan.reconnect_every = options.reconnect_every;
  plan.timeline = options.timeline;
  std::vector<TlsPeer> tls_peers;
  if (options.tls.enabled) {
    for (const auto& target : options.targets) {
      tls_peers.push_back(TlsPeerFor(options.tls, HostOf(target)));
    }
  }

  const int thread_count = std::min(options.threads, options.connections);
  if (options.connect_rate > 0) plan.ns_per_connect = 1e9 * thread_count / options.connect_rate;
  RunControl control;
  std::vector<std::unique_ptr<TlsClientContext>> tls_contexts;  // one per thread
  std::vector<std::unique_ptr<LoadThread>> threads;
  for (int t = 0; t < thread_count; ++t) {
    if (options.tls.enabled) {
      auto context = TlsClientContext::Create(options.tls);
      if (!context.ok()) return context.status();
      tls_contexts.push_back(std::move(*context));
      plan.tls = tls_contexts.back().get();
    }
    threads.push_back(std::make_unique<LoadThread>(plan, control));
    if (auto status = threads.back()->Init(); !status.ok()) return status;
  }
  const int64_t total_requests = std::max<int64_t>(options.requests, 0);
  for (int i = 0; i < options.connections; ++i) {
    int64_t quota = -1;
    if (plan.requests_mode) {
      quota = total_requests / options.connections + (i < total_requests % options.connections);
    }
    const size_t target = static_cast<size_t>(i) % targets->size();
    threads[static_cast<size_t>(i % thread_count)]->AddConnection(
        static_cast<uint64_t>(i), (*targets)[target], quota,
        options.tls.enabled ? &tls_peers[target] : nullptr);
  }
  for (auto& thread : threads) thread->Launch();
  auto post_all = [&threads](auto method) {
    for (auto& thread : threads) {
      LoadThread* t = thread.get();
      t->event_loop().Post([t, method] { method(*t); });
    }
  };
  auto live_open = [&threads] {
    int open = 0;
    for (auto& thread : threads) {
      open += thread->counters().live.open.load(std::memory_order_relaxed);
    }
    return open;
  };
  auto shutdown = [&] {
    post_all([](LoadThread& t) { t.Shutdown(); });
    for (auto& thread : threads) thread->Join();
  };

  // Connect everything first: the clock starts with every connection that could be opened.
  post_all([](LoadThread& t) { t.BeginConnecting(); });
  {
    std::unique_lock<std::mutex> lock(control.mutex);
    control.changed.wait(lock, [&] { return control.threads_connected == thread_count; });
  }
  const int open_at_start = live_open();
  uint64_t handshakes_failed = 0;
  for (auto& thread : threads) {
    handshakes_failed += thread->counters().live.handshakes_failed.load(std::memory_order_relaxed);
  }
  if (open_at_start == 0 && handshakes_failed == 0) {
    shutdown();
    std::string error;
    for (auto& thread : threads) {
      if (error.empty()) error = thread->counters().first_connect_error;
    }
    return absl::UnavailableError(
        absl::StrCat("no connection could be established", error.empty() ? "" : ": ", error));
  }

  const int64_t start_ns = core::MonotonicNowNs();
  Timeline timeline(options.timeline);
  timeline.set_origin(start_ns);
  const int64_t measure_start_ns = start_ns + options.warmup_ns;
  const int64_t measure_end_ns = plan.requests_mode ? std::numeric_limits<int64_t>::max()
                                                    : measure_start_ns + options.duration_ns;
  for (auto& thread : threads) {
    LoadThread* t = thread.get();
    t->event_loop().Post([t, start_ns, measure_start_ns, measure_end_ns] {
      t->BeginLoad(start_ns, measure_start_ns, measure_end_ns);
    });
  }

  std::optional<absl::StatusOr<double>> cpu_at_start;
  {
    constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
    // Wakes for the progress callback, with a timeline just before each second ends to sample
    // the open connections, and with server_cpu when the measurement begins.
    constexpr int64_t kSampleLeadNs = 5'000'000;
    const int64_t interval_ns = std::max<int64_t>(options.progress_interval_ns, 1);
    int64_t next_report_ns = core::MonotonicNowNs() + interval_ns;
    int64_t next_sample_ns = start_ns + Timeline::kSecondNs - kSampleLeadNs;
    int64_t cpu_sample_ns = options.server_cpu ? measure_start_ns : kNever;
    std::unique_lock<std::mutex> lock(control.mutex);
    while (control.threads_finished < thread_count) {
      const int64_t wake_ns = std::min(
          {next_report_ns, options.timeline ? next_sample_ns : kNever, cpu_sample_ns});
      const auto deadline = std::chrono::steady_clock::now() +
                            std::chrono::nanoseconds(wake_ns - core::MonotonicNowNs());
      bool finished = control.changed.wait_until(
          lock, deadline, [&] { return control.threads_finished == thread_count; });
      if (finished) break;
      const int64_t now = core::MonotonicNowNs();
      if (now >= cpu_sample_ns) {
        cpu_sample_ns = kNever;
        lock.unlock();
        cpu_at_start = options.server_cpu();
        lock.lock();
      }
      if (options.timeline && now >= next_sample_ns) {
        timeline.SampleConnections(now, live_open());
        next_sample_ns += Timeline::kSecondNs;
      }
      if (now < next_report_ns) continue;
      next_report_ns += interval_ns;
      if (options.on_progress) {
        Progress progress;
        progress.elapsed_s = static_cast<double>(now - start_ns) / 1e9;
        progress.warming_up = now < measure_start_ns;
        for (auto& thread : threads) {
          const auto& live = thread->counters().live;
          progress.completed += live.completed.load(std::memory_order_relaxed);
          progress.errors += live.errors.load(std::memory_order_relaxed);
          progress.bytes_received += live.bytes_received.load(std::memory_order_relaxed);
          progress.connections_open += live.open.load(std::memory_order_relaxed);
        }
        lock.unlock();
        options.on_progress(progress);
        lock.lock();
      }
    }
  }

  std::optional<absl::StatusOr<double>> cpu_at_end;
  if (cpu_at_start.has_value()) cpu_at_end = options.server_cpu();

  if (options.hold_ns > 0) {
    if (options.on_hold) options.on_hold(live_open());
    std::this_thread::sleep_for(std::chrono::nanoseconds(options.hold_ns));  // the hold itself
  }
  shutdown();

  Result result;
  result.options = options;
  result.options.on_progress = nullptr;
  result.options.on_hold = nullptr;
  for (const auto& address : *targets) result.resolved_targets.push_back(address.ToString());
  result.open_loop = plan.open_loop;
  result.connections_open_at_start = open_at_start;
  result.start_ns = start_ns;
  result.timeline = std::move(timeline);
  int64_t last_response_ns = measure_start_ns;
  for (auto& thread : threads) {
    ThreadCounters& c = thread->counters();
    result.requests += c.requests;
    result.requests_sent += c.requests_sent;
    result.bytes_sent += c.bytes_sent;
    result.bytes_received += c.bytes_received;
    result.verified += c.verified;
    result.lost += c.lost;
    result.failed += c.failed;
    result.unsent += c.unsent;
    result.connects += c.connects;
    result.reconnects += c.reconnects;
    result.errors.Add(c.errors);
    result.latency.Merge(c.latency);
    result.latency_uncorrected.Merge(c.latency_uncorrected);
    result.timeline.Merge(c.timeline);
    result.tls.handshakes += c.handshakes;
    result.tls.handshakes_measured += c.handshakes_measured;
    result.tls.resumed += c.resumed;
    result.tls.latency.Merge(c.handshake_latency);
    if (result.tls.negotiated.empty()) result.tls.negotiated = c.tls_negotiated;
    if (result.tls.first_error.empty()) result.tls.first_error = c.first_tls_error;
    last_response_ns = std::max(last_response_ns, c.last_measured_response_ns);
  }
  result.timeline.FillConnections(open_at_start);
  result.options.server_cpu = nullptr;
  if (options.server_cpu) {
    if (!cpu_at_start.has_value()) {
      result.server_cpu_error = "the run ended before the measurement window began";
    } else if (!cpu_at_start->ok() || !cpu_at_end->ok()) {
      result.server_cpu_error =
          std::string((!cpu_at_start->ok() ? cpu_at_start->status() : cpu_at_end->status())
                          .message());
    } else {
      result.server_cpu_seconds = **cpu_at_end - **cpu_at_start;
    }
  }
  result.duration_s = plan.requests_mode
                          ? static_cast<double>(last_response_ns - measure_start_ns) / 1e9
                          : static_cast<double>(options.duration_ns) / 1e9;
  return result;
}

}  // namespace shoal::loadgen
