// Issue 5 benchmark: the echo protocol's zero-copy path (the rest of a partly arrived frame is
// read from the socket straight into output-queue chunks, Connection::ForwardInput +
// OutputQueue::AppendFromFd) against the copy path (EchoSettings::forward_partial_payloads =
// false: a partial frame waits in the connection's input buffer until complete, then is copied to
// the output queue).
//
// One process, one run, so ratios compare like with like:
//  1. Throughput: for each frame size (64 B, 16 KiB, 1 MiB), --rounds times: a fresh in-process
//     core::Server (1 worker, 127.0.0.1:0, echo) in "copy" mode, then one in "zero-copy" mode,
//     each driven by tools/loadgen (Run(Options), closed loop, --connections, --pipeline, 1 load
//     thread) for --warmup_ms + --duration_ms. Reports req/s and MB/s (received) per window and
//     the median over rounds, and the after/before (zero-copy/copy) ratio of the medians.
//  2. Peak RSS: a fresh server in each mode; --clients raw client sockets (SO_RCVBUF --rcvbuf)
//     connect, each pipelines --client_bytes of --rss_frame-byte frames and never reads. A sampler
//     thread reads /proc/self/statm every 5 ms; growth = peak - RSS just before connecting. The
//     clients run in this process, so RSS is client + server (the clients' user-space share is
//     one shared send buffer, allocated before the baseline; kernel socket buffers are not RSS).
//     Bound: clients x high_watermark. Also reported: the worker's queued-output bytes at the end
//     (core::WorkerStats) and how many bytes the clients managed to send.
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "core/connection.h"
#include "core/server.h"
#include "core/stats.h"
#include "server/application.h"
#include "server/protocols/echo/echo_protocol.h"
#include "tools/loadgen/loadgen.h"

ABSL_FLAG(int, rounds, 3, "throughput: copy/zero-copy alternations per frame size");
ABSL_FLAG(int, duration_ms, 3000, "throughput: measured window per run");
ABSL_FLAG(int, warmup_ms, 500, "throughput: warm-up per run");
ABSL_FLAG(int, connections, 4, "throughput: client connections");
ABSL_FLAG(int, pipeline, 4, "throughput: requests in flight per connection");
ABSL_FLAG(std::string, sizes, "64,16384,1048576", "throughput: frame payload sizes");
ABSL_FLAG(int, clients, 200, "rss: non-reading clients");
ABSL_FLAG(int64_t, client_bytes, 4 << 20, "rss: bytes each client tries to pipeline");
ABSL_FLAG(int, rss_frame, 64 << 10, "rss: frame payload bytes");
ABSL_FLAG(int, rcvbuf, 4096, "rss: client SO_RCVBUF");
ABSL_FLAG(int, send_idle_ms, 1500, "rss: stop sending after this long without progress");
ABSL_FLAG(bool, skip_rss, false, "skip the RSS scenario");
ABSL_FLAG(bool, skip_throughput, false, "skip the throughput scenario");

namespace {

using shoal::core::Server;

struct RunningServer {
  std::unique_ptr<Server> server;
  std::string target;
};

RunningServer StartServer(bool zero_copy) {
  shoal::core::ServerOptions options =
      *shoal::server::ServerOptionsFrom(shoal::server::Config::Default());
  options.workers = 1;
  shoal::core::ServerListenerOptions listener = options.listeners.front();
  options.listeners.clear();
  listener.name = "echo";
  listener.address = *shoal::core::SocketAddress::Parse("127.0.0.1:0");
  options.listeners.push_back(listener);
  shoal::server::EchoSettings echo =
      shoal::server::EchoSettingsFrom(shoal::server::Config::Default());
  echo.forward_partial_payloads = zero_copy;
  auto server = Server::Create(options, [echo](size_t, int) {
    return std::unique_ptr<shoal::core::Protocol>(
        std::make_unique<shoal::server::EchoProtocol>(echo));
  });
  if (!server.ok()) {
    std::fprintf(stderr, "server: %s\n", std::string(server.status().message()).c_str());
    std::exit(1);
  }
  if (auto status = (*server)->Start(); !status.ok()) {
    std::fprintf(stderr, "start: %s\n", std::string(status.message()).c_str());
    std::exit(1);
  }
  RunningServer result;
  result.target = (*server)->bound_addresses()[0].ToString();
  result.server = std::move(*server);
  return result;
}

const char* ModeName(bool zero_copy) { return zero_copy ? "zero-copy" : "copy"; }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string SizeName(size_t size) {
  if (size >= (1 << 20) && size % (1 << 20) == 0) return std::to_string(size >> 20) + " MiB";
  if (size >= 1024 && size % 1024 == 0) return std::to_string(size >> 10) + " KiB";
  return std::to_string(size) + " B";
}

void Throughput() {
  std::vector<size_t> sizes;
  std::string all = absl::GetFlag(FLAGS_sizes) + ",";
  for (size_t at = 0, comma; (comma = all.find(',', at)) != std::string::npos; at = comma + 1) {
    if (comma > at) sizes.push_back(std::stoul(all.substr(at, comma - at)));
  }
  struct Summary { size_t size; double rps[2], mbps[2]; };
  std::vector<Summary> summaries;
  std::printf("== throughput: 1 worker, loadgen 1 thread, %d connections x pipeline %d, "
              "%d ms windows (+%d ms warm-up) ==\n",
              absl::GetFlag(FLAGS_connections), absl::GetFlag(FLAGS_pipeline),
              absl::GetFlag(FLAGS_duration_ms), absl::GetFlag(FLAGS_warmup_ms));
  for (size_t size : sizes) {
    std::vector<double> rps[2], mbps[2];
    for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
      for (bool zero_copy : {false, true}) {
        RunningServer server = StartServer(zero_copy);
        shoal::loadgen::Options options;
        options.targets = {server.target};
        options.connections = absl::GetFlag(FLAGS_connections);
        options.threads = 1;
        options.pipeline = absl::GetFlag(FLAGS_pipeline);
        options.size = size;
        options.duration_ns = int64_t{absl::GetFlag(FLAGS_duration_ms)} * 1'000'000;
        options.warmup_ns = int64_t{absl::GetFlag(FLAGS_warmup_ms)} * 1'000'000;
        auto result = shoal::loadgen::Run(options);
        server.server->Stop();
        if (!result.ok()) {
          std::fprintf(stderr, "loadgen: %s\n", std::string(result.status().message()).c_str());
          std::exit(1);
        }
        double r = result->requests_per_second();
        double m = result->bytes_received_per_second() / 1e6;
        rps[zero_copy].push_back(r);
        mbps[zero_copy].push_back(m);
        std::printf("  %-8s round %d %-9s %12.0f req/s %9.1f MB/s  errors %llu  unanswered %llu\n",
                    SizeName(size).c_str(), round + 1, ModeName(zero_copy), r, m,
                    static_cast<unsigned long long>(result->errors.total()),
                    static_cast<unsigned long long>(result->requests_sent - result->requests));
        std::fflush(stdout);
      }
    }
    summaries.push_back({size, {Median(rps[0]), Median(rps[1])}, {Median(mbps[0]), Median(mbps[1])}});
  }
  std::printf("\n| frame | copy req/s | copy MB/s | zero-copy req/s | zero-copy MB/s | "
              "after/before |\n|---|---|---|---|---|---|\n");
  for (const Summary& s : summaries) {
    std::printf("| %s | %.0f | %.1f | %.0f | %.1f | %.2f |\n", SizeName(s.size).c_str(), s.rps[0],
                s.mbps[0], s.rps[1], s.mbps[1], s.rps[0] > 0 ? s.rps[1] / s.rps[0] : 0);
  }
  std::printf("(medians over %d rounds; MB/s = response bytes received by the client, 1 MB = 1e6 B)\n\n",
              absl::GetFlag(FLAGS_rounds));
}

int64_t RssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  long size = 0, resident = 0;
  if (f) {
    if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return int64_t{resident} * sysconf(_SC_PAGESIZE);
}

void Rss(bool zero_copy) {
  const int clients = absl::GetFlag(FLAGS_clients);
  const int64_t client_bytes = absl::GetFlag(FLAGS_client_bytes);
  const size_t frame = static_cast<size_t>(absl::GetFlag(FLAGS_rss_frame));
  shoal::core::ConnectionSettings defaults =
      shoal::server::ConnectionSettingsFrom(shoal::server::Config::Default());
  // The client stream: whole frames, client_bytes in all (rounded up to whole frames).
  size_t frames = static_cast<size_t>((client_bytes + frame + 3) / (frame + 4));
  std::string stream;
  stream.reserve(frames * (frame + 4));
  for (size_t i = 0; i < frames; ++i) {
    uint32_t length = htonl(static_cast<uint32_t>(frame));
    stream.append(reinterpret_cast<const char*>(&length), 4);
    stream.append(frame, static_cast<char>('a' + i % 26));
  }
  RunningServer server = StartServer(zero_copy);
  auto address = *shoal::core::SocketAddress::Parse(server.target);
  malloc_trim(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const int64_t baseline = RssBytes();
  std::atomic<bool> sampling{true};
  std::atomic<int64_t> peak{baseline};
  std::thread sampler([&] {
    while (sampling.load()) {
      int64_t rss = RssBytes();
      if (rss > peak.load()) peak.store(rss);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::vector<int> fds;
  std::vector<size_t> sent(clients, 0);
  for (int i = 0; i < clients; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int rcvbuf = absl::GetFlag(FLAGS_rcvbuf);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (connect(fd, address.sockaddr_ptr(), address.length()) != 0) {
      std::perror("connect");
      std::exit(1);
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fds.push_back(fd);
  }
  // Send until every client has sent everything or no client progressed for send_idle_ms.
  auto last_progress = std::chrono::steady_clock::now();
  for (;;) {
    std::vector<pollfd> polls;
    std::vector<int> which;
    for (int i = 0; i < clients; ++i) {
      if (sent[i] < stream.size()) {
        polls.push_back({fds[i], POLLOUT, 0});
        which.push_back(i);
      }
    }
    if (polls.empty()) break;
    int ready = poll(polls.data(), polls.size(), 50);
    bool progressed = false;
    for (size_t k = 0; ready > 0 && k < polls.size(); ++k) {
      if (!(polls[k].revents & POLLOUT)) continue;
      int i = which[k];
      ssize_t n = send(fds[i], stream.data() + sent[i], stream.size() - sent[i], MSG_NOSIGNAL);
      if (n > 0) {
        sent[i] += static_cast<size_t>(n);
        progressed = true;
      }
    }
    auto now = std::chrono::steady_clock::now();
    if (progressed) last_progress = now;
    if (now - last_progress > std::chrono::milliseconds(absl::GetFlag(FLAGS_send_idle_ms))) break;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  sampling.store(false);
  sampler.join();
  uint64_t total_sent = 0;
  for (size_t s : sent) total_sent += s;
  const auto& stats = server.server->workers()[0]->stats();
  uint64_t queued = stats.output_queue_bytes.value();
  uint64_t pauses = stats.backpressure_pauses.value();
  int64_t open = server.server->open_connections();
  int64_t growth = peak.load() - baseline;
  double bound = double(clients) * defaults.high_watermark;
  std::printf("  %-9s clients %d, sent %.1f MiB in all (%.2f MiB/client of %.2f), open %lld, "
              "worker queued %.1f MiB, pauses %llu\n",
              ModeName(zero_copy), clients, total_sent / 1048576.0,
              total_sent / 1048576.0 / clients, stream.size() / 1048576.0,
              static_cast<long long>(open), queued / 1048576.0,
              static_cast<unsigned long long>(pauses));
  std::printf("  %-9s RSS baseline %.1f MiB, peak %.1f MiB, growth %.1f MiB = %.2f x bound "
              "(%d x high_watermark %.0f MiB = %.0f MiB)\n",
              ModeName(zero_copy), baseline / 1048576.0, peak.load() / 1048576.0,
              growth / 1048576.0, growth / bound, clients, defaults.high_watermark / 1048576.0,
              bound / 1048576.0);
  std::fflush(stdout);
  for (int fd : fds) close(fd);
  server.server->Stop();
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (!absl::GetFlag(FLAGS_skip_rss)) {
    std::printf("== peak RSS: %d non-reading clients (SO_RCVBUF %d), each pipelining %lld bytes "
                "of %d-byte frames; in-process clients + server share the RSS ==\n",
                absl::GetFlag(FLAGS_clients), absl::GetFlag(FLAGS_rcvbuf),
                static_cast<long long>(absl::GetFlag(FLAGS_client_bytes)),
                absl::GetFlag(FLAGS_rss_frame));
    Rss(true);
    Rss(false);
    std::printf("\n");
  }
  if (!absl::GetFlag(FLAGS_skip_throughput)) Throughput();
  return 0;
}
