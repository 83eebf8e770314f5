// floor_echo: the floor for tools/bench/echo.sh. A minimal epoll echo server: every byte read is
// written back (an echo frame comes back identical, so it serves the length-prefixed echo
// protocol without parsing it). One single-threaded loop, level-triggered, one read and one write
// per readiness event; no timers, no limits, no metrics, no framing: the cost of the syscalls
// alone. --threads=N runs N such loops, each on its own SO_REUSEPORT socket, to compare with N
// shoal workers.
//
// Usage: floor_echo [--address=127.0.0.1] [--port=0] [--threads=1]
// Prints "listening on ADDRESS:PORT" on stdout once every loop accepts, then runs until killed.
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <vector>

#include "tools/bench/floor/floor_listen.h"

namespace {

constexpr size_t kReadBytes = 64 * 1024;

struct Client {
  int fd;
  std::vector<char> pending;  // bytes read but not yet written back
  size_t offset = 0;
};

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "floor_echo: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

void CloseClient(int epoll_fd, Client* client) {
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, client->fd, nullptr);
  close(client->fd);
  delete client;
}

// Writes what is pending; true when all of it went.
bool FlushPending(Client* client) {
  while (client->offset < client->pending.size()) {
    ssize_t n = send(client->fd, client->pending.data() + client->offset,
                     client->pending.size() - client->offset, MSG_NOSIGNAL);
    if (n < 0) return false;
    client->offset += static_cast<size_t>(n);
  }
  client->pending.clear();
  client->offset = 0;
  return true;
}

void Loop(int listen_fd) {
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) Die("epoll_create1");
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = nullptr;  // the listener
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &event);
  std::vector<char> buffer(kReadBytes);
  std::vector<epoll_event> events(256);
  for (;;) {
    int count = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), -1);
    for (int i = 0; i < count; ++i) {
      auto* client = static_cast<Client*>(events[i].data.ptr);
      if (client == nullptr) {
        for (;;) {
          int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          int one = 1;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          epoll_event e{};
          e.events = EPOLLIN;
          e.data.ptr = new Client{fd, {}, 0};
          epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &e);
        }
        continue;
      }
      if (!client->pending.empty()) {  // waiting for EPOLLOUT
        if (!FlushPending(client)) {
          if (errno != EAGAIN) CloseClient(epoll_fd, client);
          continue;
        }
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.ptr = client;
        epoll_ctl(epoll_fd, EPOLL_CTL_MOD, client->fd, &e);
        continue;
      }
      ssize_t n = recv(client->fd, buffer.data(), buffer.size(), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        CloseClient(epoll_fd, client);
        continue;
      }
      if (n < 0) continue;
      ssize_t written = send(client->fd, buffer.data(), static_cast<size_t>(n), MSG_NOSIGNAL);
      if (written < 0 && errno != EAGAIN) {
        CloseClient(epoll_fd, client);
        continue;
      }
      if (written < n) {
        // Partial write: keep the rest and stop reading until it is written.
        size_t from = written < 0 ? 0 : static_cast<size_t>(written);
        client->pending.assign(buffer.data() + from, buffer.data() + n);
        client->offset = 0;
        epoll_event e{};
        e.events = EPOLLOUT;
        e.data.ptr = client;
        epoll_ctl(epoll_fd, EPOLL_CTL_MOD, client->fd, &e);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  floor_bench::ListenOptions options;
  for (int i = 1; i < argc; ++i) {
    if (!floor_bench::ParseListenFlag(argv[i], &options)) {
      std::fprintf(stderr, "usage: floor_echo [--address=A] [--port=P] [--threads=N]\n");
      return 2;
    }
  }
  floor_bench::ServeOnEveryListener(options, Loop);
}
