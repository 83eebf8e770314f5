// Client sockets to 127.0.0.1 for tests: connect (one or many at once), send all, read exactly,
// and the ways a client sees the server end a connection.
//
// Sockets are blocking-mode (so a test may also use plain send/recv on them); every helper here
// uses MSG_DONTWAIT plus poll(), so no call waits past its deadline. Failures come back as
// absl::Status (tests ASSERT on them). Threading: free functions, any thread, one fd per caller.
#ifndef SHOAL_TESTS_SUPPORT_CLIENT_SOCKET_H_
#define SHOAL_TESTS_SUPPORT_CLIENT_SOCKET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/socket.h"
#include "tests/support/deadline.h"

namespace shoal::testing {

struct ClientOptions {
  int receive_buffer = 0;  // SO_RCVBUF before connect (0 = kernel default, autotuned)
  int send_buffer = 0;     // SO_SNDBUF before connect
};

// A TCP socket (not yet connected) with TCP_NODELAY and the options applied.
absl::StatusOr<core::ScopedFd> NewClientSocket(const ClientOptions& options = {});
// Connects an existing socket to 127.0.0.1:port; returns once the handshake completed.
absl::Status ConnectSocket(int fd, uint16_t port, Deadline deadline);
absl::StatusOr<core::ScopedFd> Connect(uint16_t port, Deadline deadline = seconds(5),
                                       const ClientOptions& options = {});
// The same from the local address `source` (any 127.x.y.z: all of 127/8 is loopback), so a test
// can play several client hosts.
absl::StatusOr<core::ScopedFd> ConnectFrom(std::string_view source, uint16_t port,
                                           Deadline deadline = seconds(5));
// `count` connections, all handshakes in flight at once.
absl::StatusOr<std::vector<core::ScopedFd>> ConnectMany(uint16_t port, size_t count,
                                                        Deadline deadline,
                                                        const ClientOptions& options = {});

// A listening socket on 127.0.0.1 at a port the kernel picks, without SO_REUSEPORT: while it is
// open nothing else can bind that port (for tests of "address in use").
struct OccupiedPort {
  core::ScopedFd fd;
  uint16_t port = 0;
};
absl::StatusOr<OccupiedPort> OccupyLoopbackPort();

absl::Status SendAll(int fd, std::string_view bytes, Deadline deadline);
// Exactly n bytes; EOF, an error or the deadline first is an error status saying how many came.
absl::StatusOr<std::string> ReadExactly(int fd, size_t n, Deadline deadline);
// At most n bytes: what arrived before EOF, an error or the deadline (for a client that expects
// the server may end the stream and checks what it got).
std::string ReadUpTo(int fd, size_t n, Deadline deadline);

// How a connection ended, as seen by a client waiting for the end without expecting data.
enum class EndKind { kEof, kReset, kData, kTimeout, kError };
std::string EndKindName(EndKind kind);
// Waits for the peer's end of stream: kEof (FIN), kReset (ECONNRESET), kData (bytes arrived
// instead; stored in `*data` when given), kTimeout, kError (another errno).
EndKind WaitForEnd(int fd, Deadline deadline, std::string* data = nullptr);

// How a connection ended, with when the client saw it and how many bytes came first.
struct End {
  enum class Kind { kEof, kReset, kTimeout, kError };
  Kind kind = Kind::kTimeout;
  Clock::time_point at;   // when the client saw it
  size_t data_bytes = 0;  // bytes read (and discarded) before the end
  int error = 0;          // errno for kError / kReset
  bool closed() const { return kind == Kind::kEof || kind == Kind::kReset; }
  std::string ToString() const;
};
// Reads (and discards) until EOF, reset or the deadline.
End ReadUntilEnd(int fd, Deadline deadline);
// Waits without reading (poll for POLLRDHUP/POLLHUP/POLLERR only) until the peer's FIN or reset
// arrives, or the deadline: for a client whose receive buffer is full of data it must not read.
End WaitForEndWithoutReading(int fd, Deadline deadline);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed); -1 on error.
int PickFreePort();

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_CLIENT_SOCKET_H_
