// What the floor servers (floor_echo, uring_floor_echo) share: their common flags, one
// SO_REUSEPORT listener per loop, the "listening on ADDRESS:PORT" line, and one loop per thread.
// Header-only; called from main() before any loop runs.
#ifndef SHOAL_TOOLS_BENCH_FLOOR_FLOOR_LISTEN_H_
#define SHOAL_TOOLS_BENCH_FLOOR_FLOOR_LISTEN_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace floor_bench {

struct ListenOptions {
  std::string address = "127.0.0.1";
  int port = 0;
  int threads = 1;
};

// Consumes --address=, --port= or --threads=; false for any other argument.
inline bool ParseListenFlag(const std::string& arg, ListenOptions* options) {
  if (arg.rfind("--address=", 0) == 0) {
    options->address = arg.substr(10);
  } else if (arg.rfind("--port=", 0) == 0) {
    options->port = std::atoi(arg.c_str() + 7);
  } else if (arg.rfind("--threads=", 0) == 0) {
    options->threads = std::max(1, std::atoi(arg.c_str() + 10));
  } else {
    return false;
  }
  return true;
}

[[noreturn]] inline void DieListening(const char* what) {
  std::fprintf(stderr, "floor: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

// A non-blocking SO_REUSEPORT listener; accepted sockets inherit its TCP_NODELAY.
inline int ListenReusePort(const char* address, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) DieListening("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address, &addr.sin_addr) != 1) DieListening("address");
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) DieListening("bind");
  if (listen(fd, 4096) != 0) DieListening("listen");
  return fd;
}

// Opens one listener per thread on one port (the first picks it when --port=0), prints
// "listening on ADDRESS:PORT", then runs loop(listener_fd) on every listener, the first on the
// calling thread. `loop` never returns.
template <typename LoopFunction>
[[noreturn]] void ServeOnEveryListener(const ListenOptions& options, LoopFunction loop) {
  signal(SIGPIPE, SIG_IGN);
  std::vector<int> listeners{ListenReusePort(options.address.c_str(), options.port)};
  sockaddr_in bound{};
  socklen_t length = sizeof(bound);
  getsockname(listeners[0], reinterpret_cast<sockaddr*>(&bound), &length);
  int port = ntohs(bound.sin_port);
  for (int t = 1; t < options.threads; ++t) listeners.push_back(ListenReusePort(options.address.c_str(), port));
  std::printf("listening on %s:%d\n", options.address.c_str(), port);
  std::fflush(stdout);
  std::vector<std::thread> loops;
  for (size_t t = 1; t < listeners.size(); ++t) loops.emplace_back(loop, listeners[t]);
  loop(listeners[0]);
  std::abort();
}

}  // namespace floor_bench

#endif  // SHOAL_TOOLS_BENCH_FLOOR_FLOOR_LISTEN_H_
