// ONE in-process server for tests: a started core::Server with one listener on 127.0.0.1:0
// (SO_REUSEPORT, one socket per worker) speaking any protocol: a registered one, by name, built
// through the protocol registry from `config` (as the shoal binary builds it), or any factory a
// test supplies (a faulty echo, say). Stops and joins the workers on destruction.
//
// Threading: create, Barrier and destroy from the test thread; the stat accessors may be called
// while the workers run (they read relaxed atomics, see core/stats.h).
#ifndef SHOAL_TESTS_SUPPORT_TEST_SERVER_H_
#define SHOAL_TESTS_SUPPORT_TEST_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/cidr.h"
#include "core/close_reason.h"
#include "core/connection.h"
#include "core/proxy_header.h"
#include "core/server.h"
#include "core/socket.h"
#include "core/stats.h"
#include "server/config/types.h"
#include "tests/support/deadline.h"
#include "tests/support/default_options.h"

namespace shoal::testing {

struct TestServerOptions {
  // A registered protocol's name (server/protocols/registry.h).
  std::string protocol = "echo";
  // What the protocol is built from: limits.max_frame_bytes, limits.max_header_bytes, ...
  server::Config config = server::Config::Default();
  // When set, makes every worker's protocol instead of `protocol`.
  core::ProtocolFactory factory;
  int workers = 1;
  // The rest start as the shoal binary maps the default config (tests/support/default_options.h).
  int64_t tick_ns = DefaultTickNs();
  core::ConnectionSettings settings = DefaultConnectionSettings();
  core::AcceptedSocketOptions socket = DefaultSocketOptions();
  int64_t max_connections = DefaultMaxConnections();
  int backlog = DefaultBacklog();
  core::Balance balance = core::Balance::kKernel;
  core::SourceLimits per_source = {};
  core::ProxyProtocolMode proxy_protocol = core::ProxyProtocolMode::kOff;
  std::vector<core::Cidr> trusted_proxies = {};
  // TLS on the listener (null: plaintext).
  std::shared_ptr<core::TlsContextHolder> tls = nullptr;
};

class TestServer {
 public:
  static absl::StatusOr<std::unique_ptr<TestServer>> Start(const TestServerOptions& options = {});
  ~TestServer();

  uint16_t port() const { return address_.port(); }
  // "127.0.0.1:PORT"
  std::string address_text() const;
  const core::SocketAddress& address() const { return address_; }
  core::Server& server() { return *server_; }
  int worker_count() const { return static_cast<int>(server_->workers().size()); }
  const core::WorkerStats& worker_stats(int worker) const;
  // The listener's stats on `worker`.
  const core::ListenerStats& listener_stats(int worker) const;

  // Sums over every worker.
  uint64_t accepted() const;
  int64_t active() const;
  uint64_t closed(core::CloseReason reason) const;
  uint64_t closed_total() const;
  uint64_t requests() const;
  uint64_t bytes_received() const;
  uint64_t bytes_sent() const;
  // Accept errors counted for `err` (one of core::kCountedAcceptErrnos; anything else reads the
  // "other" slot).
  uint64_t accept_errors(int err) const;
  std::vector<uint64_t> accepted_per_worker() const;

  // Runs a no-op task on every worker's loop and waits until all have run. When it returns true,
  // every loop turn that was running when it was called has finished: closes seen by a client
  // before the call are counted, and settings posted before the call are in effect.
  bool Barrier(Deadline deadline = seconds(5));

  // A one-line summary of the stats for failure messages, taken after a Barrier (so a close the
  // client just saw is counted).
  std::string StatsSummary();

 private:
  TestServer() = default;
  // The sum over every worker of read(that worker's ListenerStats).
  template <typename Read>
  auto Sum(Read read) const;

  std::unique_ptr<core::Server> server_;
  core::SocketAddress address_;
};

// Index of `err` in ListenerStats::accept_errors.
size_t AcceptErrorIndex(int err);

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_TEST_SERVER_H_
