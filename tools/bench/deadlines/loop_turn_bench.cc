// Loop-turn benchmark: does a worker's loop turn get slower when it holds many idle
// connections (each with its deadline on the worker's timer wheel)? Target: turn time with 15k idle
// connections at most 2x the turn time with 100.
//
// Method (one process pair, one binary run, so the ratio compares like with like):
//  * this process runs an in-process core::Server: 1 worker, the echo protocol on 127.0.0.1:0,
//    tick 10 ms, idle 120 s (no idle connection expires during the run; every one holds a timer);
//  * a client process, forked before any server thread exists, holds the connections (each
//    process stays under the 20000 open-file hard limit; both raise their soft limit to it);
//  * the fixed light load is one extra connection doing paced ping-pong: a 64-byte echo frame,
//    the next one sent 1 ms after the previous was sent (or at once if the echo took longer);
//  * the client alternates between holding `--baseline` and `--idle` idle connections (growing by
//    connecting, shrinking by closing the surplus with a reset), `--rounds` times, and measures
//    one `--window`-second window at each, so slow drifts in the machine's other load hit both
//    sides alike; the summary takes medians over the rounds;
//  * per window, from the worker's own stats (core::WorkerStats::loop_turn, observed by the worker
//    for every turn: epoll_wait return -> end of the turn, i.e. dispatch + ready list + posted
//    tasks
//    + timer wheel advance + closed-connection cleanup + stats): turns, mean turn time (exact:
//    delta sum / delta count) and p50/p99/max as histogram bucket upper bounds (buckets 10 us,
//    25 us, 50 us, ...); the worker thread's CPU time per turn (which also counts the epoll_wait
//    syscall itself); and the client's ping-pong round trip (p50/p99/p99.9/max, exact, in the
//    client process).
//
// Usage: bazel run //tools/bench/deadlines:loop_turn_bench -- [--idle=15000] ...
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "core/connection.h"
#include "core/event_loop.h"
#include "core/server.h"
#include "core/stats.h"
#include "core/timer_wheel.h"
#include "server/application.h"
#include "server/protocols/echo/echo_protocol.h"

ABSL_FLAG(int, baseline, 100, "idle connections in phase 1");
ABSL_FLAG(int, idle, 15000, "idle connections in phase 2");
ABSL_FLAG(int, rounds, 3, "rounds; each measures one window at --baseline then one at --idle");
ABSL_FLAG(int, window, 5, "seconds per measurement window");
ABSL_FLAG(int, ping_interval_us, 1000,
          "ping-pong pacing: next frame this long after the last send");
ABSL_FLAG(int, payload, 64, "ping-pong frame payload bytes");
ABSL_FLAG(int, idle_timeout_s, 120, "the server's idle timeout (keep it beyond the run)");
ABSL_FLAG(int, tick_ms, 10, "timer wheel tick");
ABSL_FLAG(int, settle_ms, 2000,
          "after changing the number of idle connections, wait this long before measuring (lets "
          "the kernel finish the work of thousands of connects/resets)");
ABSL_FLAG(int, hold_s, 0,
          "after the rounds: reopen --idle fresh connections and keep the load going this long "
          "(with --idle_timeout_s just above it, every wheel cascade of their timers happens "
          "inside the hold, before any expires)");

namespace {

using shoal::core::MonotonicNowNs;

// --- Parent <-> client protocol over two pipes: fixed-size binary records. -------------------

enum class Op : int32_t { kOpen, kPing, kQuit };

struct Command {
  Op op;
  int32_t count;        // kOpen: idle connections to hold in total
  int64_t duration_ns;  // kPing
  int64_t interval_ns;  // kPing
  int32_t payload;      // kPing
};

struct Reply {
  int32_t ok;
  int32_t count;  // connections held / pings done
  int64_t p50_ns, p99_ns, p999_ns, max_ns, mean_ns;
  char error[200];
};

bool ReadFull(int fd, void* data, size_t n) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t got = read(fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

bool WriteFull(int fd, const void* data, size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t put = write(fd, p, n);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return false;
    p += put;
    n -= static_cast<size_t>(put);
  }
  return true;
}

// The first three fields of /proc/loadavg (1, 5, 15 minutes), for the record.
std::string LoadAverage() {
  char buffer[128] = {};
  FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return "?";
  size_t n = std::fread(buffer, 1, sizeof(buffer) - 1, f);
  std::fclose(f);
  std::string text(buffer, n);
  size_t end = 0;
  for (int fields = 0; fields < 3 && end != std::string::npos; ++fields) {
    end = text.find(' ', end == 0 ? 0 : end + 1);
  }
  return text.substr(0, end);
}

rlim_t RaiseFdLimit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// --- The client process. ----------------------------------------------------------------------

class Client {
 public:
  explicit Client(uint16_t port) : port_(port) {}
  ~Client() {
    for (int fd : idle_) close(fd);
    if (ping_fd_ >= 0) close(ping_fd_);
  }

  std::string Init() {
    ping_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address = Loopback(port_);
    if (connect(ping_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      return std::string("ping connect: ") + std::strerror(errno);
    }
    int one = 1;
    setsockopt(ping_fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return "";
  }

  // Opens non-blocking connects, at most 256 in flight, until `target` idle connections are held;
  // or closes the surplus with a reset (SO_LINGER 0: no TIME_WAIT, so ports can be reused at once).
  std::string OpenIdle(int target) {
    while (static_cast<int>(idle_.size()) > target) {
      linger reset{1, 0};
      setsockopt(idle_.back(), SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
      close(idle_.back());
      idle_.pop_back();
    }
    struct Pending {
      int fd;
    };
    std::vector<Pending> pending;
    const int64_t give_up = MonotonicNowNs() + 120'000'000'000;
    while (static_cast<int>(idle_.size()) < target) {
      while (pending.size() < 256 && static_cast<int>(idle_.size() + pending.size()) < target) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return std::string("socket: ") + std::strerror(errno);
        sockaddr_in address = Loopback(port_);
        if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 &&
            errno != EINPROGRESS) {
          close(fd);
          return std::string("connect: ") + std::strerror(errno);
        }
        pending.push_back({fd});
      }
      std::vector<pollfd> fds;
      for (const Pending& p : pending) fds.push_back({p.fd, POLLOUT, 0});
      int ready = poll(fds.data(), fds.size(), 1000);
      if (ready < 0 && errno != EINTR) return std::string("poll: ") + std::strerror(errno);
      if (MonotonicNowNs() > give_up) return "connects did not complete within 120 s";
      std::vector<Pending> still;
      for (size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents == 0) {
          still.push_back(pending[i]);
          continue;
        }
        int error = 0;
        socklen_t length = sizeof(error);
        getsockopt(fds[i].fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
          close(fds[i].fd);
          return std::string("connect: ") + std::strerror(error);
        }
        idle_.push_back(fds[i].fd);
      }
      pending.swap(still);
    }
    return "";
  }

  // Paced ping-pong for `duration_ns`; fills the round-trip statistics of `reply`.
  std::string Ping(int64_t duration_ns, int64_t interval_ns, int payload, Reply* reply) {
    std::string frame(4 + static_cast<size_t>(payload), 'p');
    uint32_t length = htonl(static_cast<uint32_t>(payload));
    std::memcpy(frame.data(), &length, 4);
    std::string echo(frame.size(), '\0');
    std::vector<int64_t> round_trips;
    round_trips.reserve(static_cast<size_t>(duration_ns / interval_ns) + 16);
    const int64_t end = MonotonicNowNs() + duration_ns;
    int64_t next_send = MonotonicNowNs();
    while (next_send < end) {
      timespec at{static_cast<time_t>(next_send / 1'000'000'000),
                  static_cast<long>(next_send % 1'000'000'000)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
      }
      int64_t sent_at = MonotonicNowNs();
      if (send(ping_fd_, frame.data(), frame.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(frame.size())) {
        return std::string("ping send: ") + std::strerror(errno);
      }
      size_t got = 0;
      while (got < echo.size()) {
        ssize_t n = recv(ping_fd_, echo.data() + got, echo.size() - got, 0);
        if (n <= 0) return std::string("ping recv: ") + (n == 0 ? "EOF" : std::strerror(errno));
        got += static_cast<size_t>(n);
      }
      int64_t now = MonotonicNowNs();
      if (echo != frame) return "ping: wrong echo";
      round_trips.push_back(now - sent_at);
      next_send = std::max(now, sent_at + interval_ns);
    }
    std::sort(round_trips.begin(), round_trips.end());
    auto at = [&](double q) {
      size_t i = static_cast<size_t>(q * static_cast<double>(round_trips.size() - 1) + 0.5);
      return round_trips[std::min(i, round_trips.size() - 1)];
    };
    int64_t sum = 0;
    for (int64_t v : round_trips) sum += v;
    reply->count = static_cast<int32_t>(round_trips.size());
    reply->p50_ns = at(0.50);
    reply->p99_ns = at(0.99);
    reply->p999_ns = at(0.999);
    reply->max_ns = round_trips.back();
    reply->mean_ns = sum / static_cast<int64_t>(round_trips.size());
    return "";
  }

  int held() const { return static_cast<int>(idle_.size()); }

 private:
  uint16_t port_;
  int ping_fd_ = -1;
  std::vector<int> idle_;
};

int ClientMain(int command_fd, int reply_fd) {
  uint16_t port = 0;
  if (!ReadFull(command_fd, &port, sizeof(port))) return 1;
  Client client(port);
  Reply reply{};
  std::string error = client.Init();
  reply.ok = error.empty();
  std::snprintf(reply.error, sizeof(reply.error), "%s", error.c_str());
  if (!WriteFull(reply_fd, &reply, sizeof(reply)) || !error.empty()) return 1;
  Command command{};
  while (ReadFull(command_fd, &command, sizeof(command))) {
    reply = Reply{};
    if (command.op == Op::kQuit) break;
    if (command.op == Op::kOpen) {
      error = client.OpenIdle(command.count);
      reply.count = client.held();
    } else {
      error = client.Ping(command.duration_ns, command.interval_ns, command.payload, &reply);
    }
    reply.ok = error.empty();
    std::snprintf(reply.error, sizeof(reply.error), "%s", error.c_str());
    if (!WriteFull(reply_fd, &reply, sizeof(reply))) return 1;
  }
  return 0;
}

// --- The server side. -------------------------------------------------------------------------

struct Snapshot {
  uint64_t turns = 0;
  double sum_seconds = 0;
  std::vector<uint64_t> buckets;
  int64_t cpu_ns = 0;
};

Snapshot Take(const shoal::core::WorkerStats& stats, clockid_t worker_cpu_clock) {
  Snapshot s;
  const shoal::core::Histogram& h = stats.loop_turn;
  for (size_t i = 0; i <= h.upper_bounds().size(); ++i) s.buckets.push_back(h.bucket_count(i));
  s.turns = h.count();
  s.sum_seconds = h.sum_seconds();
  timespec ts{};
  clock_gettime(worker_cpu_clock, &ts);
  s.cpu_ns = static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  return s;
}

// Upper bound (us) of the bucket holding quantile q of the turns between two snapshots; -1 = +Inf.
double BucketQuantileUs(const Snapshot& a, const Snapshot& b, const std::vector<double>& bounds,
                        double q) {
  uint64_t total = b.turns - a.turns;
  uint64_t want = static_cast<uint64_t>(q * static_cast<double>(total));
  if (want == 0) want = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < b.buckets.size(); ++i) {
    seen += b.buckets[i] - a.buckets[i];
    if (seen >= want) return i < bounds.size() ? bounds[i] * 1e6 : -1;
  }
  return -1;
}

double MaxBucketUs(const Snapshot& a, const Snapshot& b, const std::vector<double>& bounds) {
  for (size_t i = b.buckets.size(); i-- > 0;) {
    if (b.buckets[i] != a.buckets[i]) return i < bounds.size() ? bounds[i] * 1e6 : -1;
  }
  return 0;
}

struct WindowResult {
  uint64_t turns;
  double mean_turn_us;
  double p50_us, p99_us, max_us;
  double cpu_per_turn_us;
  Reply ping;
};

struct Phase {
  int idle;  // idle connections held
  std::vector<WindowResult> windows;
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const rlim_t fd_limit = RaiseFdLimit();
  int command_pipe[2], reply_pipe[2];
  if (pipe2(command_pipe, O_CLOEXEC) != 0 || pipe2(reply_pipe, O_CLOEXEC) != 0) return 2;
  // Fork before any thread exists: the client is a plain single-threaded process.
  pid_t child = fork();
  if (child == 0) {
    close(command_pipe[1]);
    close(reply_pipe[0]);
    _exit(ClientMain(command_pipe[0], reply_pipe[1]));
  }
  close(command_pipe[0]);
  close(reply_pipe[1]);
  const int to_client = command_pipe[1];
  const int from_client = reply_pipe[0];

  shoal::core::ServerOptions options =
      *shoal::server::ServerOptionsFrom(shoal::server::Config::Default());
  options.workers = 1;
  options.tick_ns = int64_t{absl::GetFlag(FLAGS_tick_ms)} * 1'000'000;
  options.settings.idle_timeout_ns = int64_t{absl::GetFlag(FLAGS_idle_timeout_s)} * 1'000'000'000;
  options.max_connections = 1'000'000;
  options.listeners.front().address = *shoal::core::SocketAddress::Parse("127.0.0.1:0");
  auto server = shoal::core::Server::Create(options, [](size_t, int) {
    return std::make_unique<shoal::server::EchoProtocol>(
        shoal::server::EchoSettingsFrom(shoal::server::Config::Default()));
  });
  if (!server.ok() || !(*server)->Start().ok()) {
    std::fprintf(stderr, "cannot start the server\n");
    return 2;
  }
  shoal::core::Worker& worker = *(*server)->workers()[0];
  const shoal::core::WorkerStats& stats = worker.stats();
  const std::vector<double>& bounds = stats.loop_turn.upper_bounds();
  std::promise<pthread_t> worker_thread;
  worker.event_loop().Post([&worker_thread] { worker_thread.set_value(pthread_self()); });
  clockid_t worker_cpu_clock;
  pthread_getcpuclockid(worker_thread.get_future().get(), &worker_cpu_clock);

  uint16_t port = (*server)->bound_addresses()[0].port();
  Reply reply{};
  if (!WriteFull(to_client, &port, sizeof(port)) || !ReadFull(from_client, &reply, sizeof(reply)) ||
      !reply.ok) {
    std::fprintf(stderr, "client failed to start: %s\n", reply.error);
    return 2;
  }

  std::printf(
      "loop_turn_bench: 1 worker, echo, tick %d ms, idle timeout %d s, RLIMIT_NOFILE %llu, "
      "%d CPUs, load average %s\n",
      absl::GetFlag(FLAGS_tick_ms), absl::GetFlag(FLAGS_idle_timeout_s),
      static_cast<unsigned long long>(fd_limit), shoal::core::OnlineCpuCount(),
      LoadAverage().c_str());
  std::printf(
      "load: 1 connection, ping-pong of %d-byte payload frames paced at %d us; %d rounds, "
      "each one %d s window at %d then one at %d idle connections\n",
      absl::GetFlag(FLAGS_payload), absl::GetFlag(FLAGS_ping_interval_us),
      absl::GetFlag(FLAGS_rounds), absl::GetFlag(FLAGS_window), absl::GetFlag(FLAGS_baseline),
      absl::GetFlag(FLAGS_idle));
  std::printf(
      "sizeof(core::Timer) = %zu bytes (vptr + wheel links + deadline); "
      "sizeof(core::Connection) = %zu bytes\n\n",
      sizeof(shoal::core::Timer), sizeof(shoal::core::Connection));
  std::printf("%6s %7s %7s %11s %7s %7s %7s %10s | %9s %9s %9s %9s\n", "round", "idle", "turns",
              "mean_turn", "p50<=", "p99<=", "max<=", "cpu/turn", "rtt_p50", "rtt_p99", "rtt_p999",
              "rtt_max");

  // Makes the client hold exactly `idle` idle connections and waits until the server does too.
  auto hold = [&](int idle) -> bool {
    Command open{Op::kOpen, idle, 0, 0, 0};
    if (!WriteFull(to_client, &open, sizeof(open)) ||
        !ReadFull(from_client, &reply, sizeof(reply)) || !reply.ok) {
      std::fprintf(stderr, "holding %d connections failed: %s\n", idle, reply.error);
      return false;
    }
    // Bounded wait on the server's own count (accepts and resets are processed by the worker).
    const int64_t want = idle + 1;
    const int64_t give_up = MonotonicNowNs() + 60'000'000'000;
    while ((*server)->open_connections() != want && MonotonicNowNs() < give_up) {
      poll(nullptr, 0, 10);
    }
    if ((*server)->open_connections() != want) {
      std::fprintf(stderr, "server holds %" PRId64 " connections, expected %" PRId64 "\n",
                   (*server)->open_connections(), want);
      return false;
    }
    return true;
  };
  // One window of the ping-pong load, measured.
  auto measure = [&](int seconds, WindowResult* r) -> bool {
    Snapshot before = Take(stats, worker_cpu_clock);
    Command ping{Op::kPing, 0, int64_t{seconds} * 1'000'000'000,
                 int64_t{absl::GetFlag(FLAGS_ping_interval_us)} * 1000,
                 absl::GetFlag(FLAGS_payload)};
    if (!WriteFull(to_client, &ping, sizeof(ping)) ||
        !ReadFull(from_client, &reply, sizeof(reply)) || !reply.ok) {
      std::fprintf(stderr, "ping-pong failed: %s\n", reply.error);
      return false;
    }
    Snapshot after = Take(stats, worker_cpu_clock);
    r->turns = after.turns - before.turns;
    r->mean_turn_us =
        (after.sum_seconds - before.sum_seconds) * 1e6 / static_cast<double>(r->turns);
    r->p50_us = BucketQuantileUs(before, after, bounds, 0.50);
    r->p99_us = BucketQuantileUs(before, after, bounds, 0.99);
    r->max_us = MaxBucketUs(before, after, bounds);
    r->cpu_per_turn_us =
        static_cast<double>(after.cpu_ns - before.cpu_ns) * 1e-3 / static_cast<double>(r->turns);
    r->ping = reply;
    return true;
  };
  auto print = [&](const char* label, int idle, const WindowResult& r) {
    std::printf("%6s %7d %7" PRIu64
                " %9.2fus %5.0fus %5.0fus %5.0fus %8.2fus | %7.1fus %7.1fus "
                "%7.1fus %7.1fus   (timers %" PRId64 ")\n",
                label, idle, r.turns, r.mean_turn_us, r.p50_us, r.p99_us, r.max_us,
                r.cpu_per_turn_us, r.ping.p50_ns * 1e-3, r.ping.p99_ns * 1e-3,
                r.ping.p999_ns * 1e-3, r.ping.max_ns * 1e-3, stats.timers_active.value());
    std::fflush(stdout);
  };

  Phase base{absl::GetFlag(FLAGS_baseline), {}};
  Phase many{absl::GetFlag(FLAGS_idle), {}};
  for (int round = 1; round <= absl::GetFlag(FLAGS_rounds); ++round) {
    for (Phase* phase : {&base, &many}) {
      WindowResult r{};
      if (!hold(phase->idle)) return 2;
      if (const int settle = absl::GetFlag(FLAGS_settle_ms); settle > 0) poll(nullptr, 0, settle);
      if (!measure(absl::GetFlag(FLAGS_window), &r)) return 2;
      phase->windows.push_back(r);
      print(std::to_string(round).c_str(), phase->idle, r);
    }
  }

  // Medians over the rounds (robust to a window disturbed by other load on the machine).
  auto median_of = [](const Phase& p, auto field) {
    std::vector<double> values;
    for (const WindowResult& w : p.windows) values.push_back(field(w));
    std::sort(values.begin(), values.end());
    size_t n = values.size();
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  };
  auto turn = [](const WindowResult& w) { return w.mean_turn_us; };
  auto cpu = [](const WindowResult& w) { return w.cpu_per_turn_us; };
  auto rtt50 = [](const WindowResult& w) { return w.ping.p50_ns * 1e-3; };
  auto rtt99 = [](const WindowResult& w) { return w.ping.p99_ns * 1e-3; };
  const double turn_ratio = median_of(many, turn) / median_of(base, turn);
  std::printf("\nmedian over rounds   %7s %7s  ratio\n", "base", "many");
  std::printf("  mean turn (us)     %7.2f %7.2f  %.2fx\n", median_of(base, turn),
              median_of(many, turn), turn_ratio);
  std::printf("  cpu per turn (us)  %7.2f %7.2f  %.2fx\n", median_of(base, cpu),
              median_of(many, cpu), median_of(many, cpu) / median_of(base, cpu));
  std::printf("  ping rtt p50 (us)  %7.1f %7.1f  %.2fx\n", median_of(base, rtt50),
              median_of(many, rtt50), median_of(many, rtt50) / median_of(base, rtt50));
  std::printf("  ping rtt p99 (us)  %7.1f %7.1f  %.2fx\n", median_of(base, rtt99),
              median_of(many, rtt99), median_of(many, rtt99) / median_of(base, rtt99));
  std::printf(
      "turn time with %d idle connections = %.2fx the turn time with %d (target <= 2x): "
      "%s\n",
      many.idle, turn_ratio, base.idle, turn_ratio <= 2.0 ? "met" : "NOT met");

  if (const int hold_s = absl::GetFlag(FLAGS_hold_s); hold_s > 0) {
    // Fresh connections: every timer is placed now, at +idle_timeout, and cascades down the wheel
    // levels during the hold (a level-2 slot of 4096 ticks all at once, then level-1 slots of 64).
    const int idle = absl::GetFlag(FLAGS_idle);
    std::printf("\nhold: %d fresh idle connections for %d s (idle timeout %d s), 2 s windows\n",
                idle, hold_s, absl::GetFlag(FLAGS_idle_timeout_s));
    if (!hold(0) || !hold(idle)) return 2;
    const int64_t hold_end = MonotonicNowNs() + int64_t{hold_s} * 1'000'000'000;
    double worst_max = 0;
    double worst_mean = 0;
    for (int t = 0; MonotonicNowNs() + 2'000'000'000 <= hold_end; t += 2) {
      WindowResult r{};
      if (!measure(2, &r)) return 2;
      print(("+" + std::to_string(t) + "s").c_str(), idle, r);
      worst_max = std::max(worst_max, r.max_us);
      worst_mean = std::max(worst_mean, r.mean_turn_us);
    }
    std::printf("hold: worst window mean turn %.2f us; longest turn <= %.0f us\n", worst_mean,
                worst_max);
  }

  std::printf("load average at the end: %s\n", LoadAverage().c_str());
  Command quit{Op::kQuit, 0, 0, 0, 0};
  WriteFull(to_client, &quit, sizeof(quit));
  waitpid(child, nullptr, 0);
  (*server)->Stop();
  return 0;
}
