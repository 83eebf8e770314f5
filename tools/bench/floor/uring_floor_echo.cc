// uring_floor_echo: the io_uring counterpart of floor_echo, to measure how far below the epoll
// floor an io_uring backend could take shoal's CPU per request. Every byte read is written back.
// Per loop: one ring (SINGLE_ISSUER + DEFER_TASKRUN + COOP_TASKRUN where the kernel takes them,
// fewer flags otherwise), its fd registered; one multishot accept on the loop's SO_REUSEPORT
// listener; one multishot recv per connection into a shared provided-buffer ring; received
// buffers are sent back as they are (no copy), at most one send in flight per connection (a
// sendmsg over every queued buffer), and everything queued in a turn is submitted by the one
// io_uring_submit_and_wait that also waits for the next completions. No timers, no limits, no
// metrics, no per-connection fairness budget: the cost of the kernel work alone.
//
// Usage: uring_floor_echo [--address=127.0.0.1] [--port=0] [--threads=1] [--registered_files]
//                         [--buffer_size=32768] [--buffers=1024]
// --registered_files accepts into the ring's fixed file table (no fd table lookups per request).
// Prints "listening on ADDRESS:PORT" on stdout once every loop accepts, then runs until killed;
// each loop prints the ring flags it got on stderr.
#include <liburing.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "tools/bench/floor/floor_listen.h"

namespace {

constexpr unsigned kRingEntries = 4096;
constexpr unsigned kCompletionEntries = 16384;
constexpr int kBufferGroup = 0;
constexpr size_t kMaxIovecs = 64;

struct Options {
  bool registered_files = false;
  unsigned buffer_size = 32 * 1024;
  unsigned buffers = 1024;  // a power of two, at most 32768
};

[[noreturn]] void Die(const char* what, int error) {
  std::fprintf(stderr, "uring_floor_echo: %s: %s\n", what, std::strerror(error));
  std::exit(2);
}

// What a completion is for: the low bits of its user_data; the rest is the Connection.
enum Tag : uint64_t { kAccept = 0, kRecv = 1, kSend = 2, kIgnore = 3 };
constexpr uint64_t kTagMask = 7;

struct Slice {
  uint16_t buffer;
  uint32_t offset;
  uint32_t length;
};

struct Connection {
  explicit Connection(int descriptor) : fd(descriptor) {}

  int fd;  // a file descriptor, or a fixed file index with --registered_files
  bool recv_armed = false;
  bool send_in_flight = false;
  bool queued_for_send = false;
  bool starved = false;  // multishot recv ended for lack of buffers; re-armed when some return
  bool closing = false;
  bool shutdown_sent = false;
  std::deque<Slice> unsent;
  iovec iovecs[kMaxIovecs]{};
  msghdr message{};
};

// Sets up `ring` with the most helpful flags the kernel accepts; returns the flags used.
unsigned SetUpRing(io_uring* ring) {
  const unsigned candidates[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN,
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
      IORING_SETUP_COOP_TASKRUN,
      0,
  };
  int error = 0;
  for (unsigned flags : candidates) {
    io_uring_params params{};
    params.flags = flags | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
    params.cq_entries = kCompletionEntries;
    error = io_uring_queue_init_params(kRingEntries, ring, &params);
    if (error == 0) return flags;
    if (error != -EINVAL) break;
  }
  Die("io_uring_queue_init_params", -error);
}

class Loop {
 public:
  Loop(const Options& options, int listen_fd) : options_(options), listen_fd_(listen_fd) {
    unsigned flags = SetUpRing(&ring_);
    if (io_uring_register_ring_fd(&ring_) < 0) std::fprintf(stderr, "uring_floor_echo: ring fd not registered\n");
    if (options_.registered_files) {
      rlimit files{};
      getrlimit(RLIMIT_NOFILE, &files);  // the fixed file table counts against it
      int error = io_uring_register_files_sparse(&ring_, static_cast<unsigned>(std::min<rlim_t>(files.rlim_cur, 65536)));
      if (error < 0) Die("io_uring_register_files_sparse", -error);
    }
    SetUpBuffers();
    std::fprintf(stderr, "uring_floor_echo: ring flags 0x%x%s\n", flags,
                 options_.registered_files ? ", registered files" : "");
  }

  [[noreturn]] void Run() {
    ArmAccept();
    for (;;) {
      int submitted = io_uring_submit_and_wait(&ring_, 1);
      if (submitted < 0 && submitted != -EINTR && submitted != -EBUSY) Die("io_uring_submit_and_wait", -submitted);
      unsigned head;
      unsigned seen = 0;
      io_uring_cqe* cqe;
      io_uring_for_each_cqe(&ring_, head, cqe) {
        ++seen;
        Complete(*cqe);
      }
      io_uring_cq_advance(&ring_, seen);
      EndTurn();
    }
  }

 private:
  void SetUpBuffers() {
    size_t ring_bytes = options_.buffers * sizeof(io_uring_buf);
    void* ring_memory = mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (ring_memory == MAP_FAILED) Die("mmap", errno);
    buffer_ring_ = static_cast<io_uring_buf_ring*>(ring_memory);
    io_uring_buf_reg registration{};
    registration.ring_addr = reinterpret_cast<uint64_t>(ring_memory);
    registration.ring_entries = options_.buffers;
    registration.bgid = kBufferGroup;
    int error = io_uring_register_buf_ring(&ring_, &registration, 0);
    if (error < 0) Die("io_uring_register_buf_ring", -error);
    io_uring_buf_ring_init(buffer_ring_);
    buffer_memory_.resize(static_cast<size_t>(options_.buffers) * options_.buffer_size);
    for (unsigned id = 0; id < options_.buffers; ++id) ReturnBuffer(static_cast<uint16_t>(id));
    PublishReturnedBuffers();
  }

  char* BufferData(uint16_t id) { return buffer_memory_.data() + static_cast<size_t>(id) * options_.buffer_size; }

  void ReturnBuffer(uint16_t id) {
    io_uring_buf_ring_add(buffer_ring_, BufferData(id), options_.buffer_size, id,
                          io_uring_buf_ring_mask(options_.buffers), returned_buffers_++);
  }

  void PublishReturnedBuffers() {
    if (returned_buffers_ == 0) return;
    io_uring_buf_ring_advance(buffer_ring_, returned_buffers_);
    returned_buffers_ = 0;
  }

  io_uring_sqe* Sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (sqe == nullptr) {
      io_uring_submit(&ring_);
      sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
  }

  io_uring_sqe* SqeOn(Connection* connection, Tag tag) {
    io_uring_sqe* sqe = Sqe();
    io_uring_sqe_set_data64(sqe, reinterpret_cast<uint64_t>(connection) | tag);
    return sqe;
  }

  void UseFile(io_uring_sqe* sqe) {
    if (options_.registered_files) sqe->flags |= IOSQE_FIXED_FILE;
  }

  void ArmAccept() {
    io_uring_sqe* sqe = SqeOn(nullptr, kAccept);
    if (options_.registered_files) {
      io_uring_prep_multishot_accept_direct(sqe, listen_fd_, nullptr, nullptr, 0);
    } else {
      io_uring_prep_multishot_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    }
  }

  void ArmRecv(Connection* connection) {
    io_uring_sqe* sqe = SqeOn(connection, kRecv);
    io_uring_prep_recv_multishot(sqe, connection->fd, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = kBufferGroup;
    UseFile(sqe);
    connection->recv_armed = true;
  }

  void StartSend(Connection* connection) {
    io_uring_sqe* sqe = SqeOn(connection, kSend);
    if (connection->unsent.size() == 1) {
      const Slice& slice = connection->unsent.front();
      io_uring_prep_send(sqe, connection->fd, BufferData(slice.buffer) + slice.offset, slice.length, MSG_NOSIGNAL);
    } else {
      size_t count = std::min(connection->unsent.size(), kMaxIovecs);
      for (size_t i = 0; i < count; ++i) {
        const Slice& slice = connection->unsent[i];
        connection->iovecs[i] = {BufferData(slice.buffer) + slice.offset, slice.length};
      }
      connection->message = {};
      connection->message.msg_iov = connection->iovecs;
      connection->message.msg_iovlen = count;
      io_uring_prep_sendmsg(sqe, connection->fd, &connection->message, MSG_NOSIGNAL);
    }
    UseFile(sqe);
    connection->send_in_flight = true;
  }

  void Complete(const io_uring_cqe& cqe) {
    auto* connection = reinterpret_cast<Connection*>(cqe.user_data & ~kTagMask);
    switch (cqe.user_data & kTagMask) {
      case kAccept: return Accepted(cqe);
      case kRecv: return Received(connection, cqe);
      case kSend: return Sent(connection, cqe);
      default: return;
    }
  }

  void Accepted(const io_uring_cqe& cqe) {
    if (!(cqe.flags & IORING_CQE_F_MORE)) ArmAccept();
    if (cqe.res < 0) return;
    ArmRecv(new Connection(cqe.res));
  }

  void Received(Connection* connection, const io_uring_cqe& cqe) {
    bool more = cqe.flags & IORING_CQE_F_MORE;
    if (cqe.res > 0) {
      auto buffer = static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
      if (connection->closing) {
        ReturnBuffer(buffer);
      } else {
        connection->unsent.push_back({buffer, 0, static_cast<uint32_t>(cqe.res)});
        QueueForSend(connection);
      }
    }
    if (more) return;
    connection->recv_armed = false;
    if (cqe.res == -ENOBUFS && !connection->closing) {
      connection->starved = true;
      starved_.push_back(connection);
    } else if (cqe.res > 0 && !connection->closing) {
      ArmRecv(connection);
    } else {
      Close(connection);
    }
  }

  void QueueForSend(Connection* connection) {
    if (connection->send_in_flight || connection->queued_for_send) return;
    connection->queued_for_send = true;
    ready_to_send_.push_back(connection);
  }

  void Sent(Connection* connection, const io_uring_cqe& cqe) {
    connection->send_in_flight = false;
    if (cqe.res < 0) return Close(connection);
    auto sent = static_cast<uint32_t>(cqe.res);
    while (sent > 0) {
      Slice& front = connection->unsent.front();
      uint32_t taken = std::min(sent, front.length);
      front.offset += taken;
      front.length -= taken;
      sent -= taken;
      if (front.length == 0) {
        ReturnBuffer(front.buffer);
        connection->unsent.pop_front();
      }
    }
    if (connection->closing) return Close(connection);
    if (!connection->unsent.empty()) QueueForSend(connection);
  }

  // Ends `connection` once nothing of it is in flight; a recv still armed is ended by a shutdown.
  void Close(Connection* connection) {
    connection->closing = true;
    if (connection->starved) {
      connection->starved = false;
      starved_.erase(std::find(starved_.begin(), starved_.end(), connection));
    }
    if (connection->recv_armed && !connection->shutdown_sent) {
      io_uring_sqe* sqe = SqeOn(nullptr, kIgnore);
      io_uring_prep_shutdown(sqe, connection->fd, SHUT_RDWR);
      UseFile(sqe);
      connection->shutdown_sent = true;
    }
    if (connection->recv_armed || connection->send_in_flight || connection->queued_for_send) return;
    for (const Slice& slice : connection->unsent) ReturnBuffer(slice.buffer);
    if (options_.registered_files) {
      io_uring_prep_close_direct(SqeOn(nullptr, kIgnore), static_cast<unsigned>(connection->fd));
    } else {
      close(connection->fd);
    }
    delete connection;
  }

  void EndTurn() {
    for (Connection* connection : ready_to_send_) {
      connection->queued_for_send = false;
      if (connection->closing) {
        Close(connection);
      } else if (!connection->unsent.empty() && !connection->send_in_flight) {
        StartSend(connection);
      }
    }
    ready_to_send_.clear();
    bool buffers_returned = returned_buffers_ > 0;
    PublishReturnedBuffers();
    if (!buffers_returned) return;
    for (Connection* connection : starved_) {
      connection->starved = false;
      ArmRecv(connection);
    }
    starved_.clear();
  }

  const Options& options_;
  const int listen_fd_;
  io_uring ring_{};
  io_uring_buf_ring* buffer_ring_ = nullptr;
  std::vector<char> buffer_memory_;
  int returned_buffers_ = 0;
  std::vector<Connection*> ready_to_send_;
  std::vector<Connection*> starved_;
};

bool IsPowerOfTwo(unsigned n) { return n != 0 && (n & (n - 1)) == 0; }

}  // namespace

int main(int argc, char** argv) {
  floor_bench::ListenOptions listen_options;
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (floor_bench::ParseListenFlag(arg, &listen_options)) continue;
    if (arg == "--registered_files") {
      options.registered_files = true;
    } else if (arg.rfind("--buffer_size=", 0) == 0) {
      options.buffer_size = static_cast<unsigned>(std::atoi(arg.c_str() + 14));
    } else if (arg.rfind("--buffers=", 0) == 0) {
      options.buffers = static_cast<unsigned>(std::atoi(arg.c_str() + 10));
    } else {
      std::fprintf(stderr,
                   "usage: uring_floor_echo [--address=A] [--port=P] [--threads=N] [--registered_files]\n"
                   "                        [--buffer_size=BYTES] [--buffers=POWER_OF_TWO]\n");
      return 2;
    }
  }
  if (!IsPowerOfTwo(options.buffers) || options.buffers > 32768 || options.buffer_size == 0) {
    std::fprintf(stderr, "uring_floor_echo: --buffers must be a power of two <= 32768, --buffer_size > 0\n");
    return 2;
  }
  floor_bench::ServeOnEveryListener(listen_options, [&options](int listen_fd) { Loop(options, listen_fd).Run(); });
}
