#include "tests/support/default_options.h"

#include <cstdlib>

#include "server/application.h"
#include "server/config/types.h"

namespace shoal::testing {

namespace {

// The default config's options, mapped once.
const core::ServerOptions& Mapped() {
  static const core::ServerOptions* const options = [] {
    auto mapped = server::ServerOptionsFrom(server::Config::Default());
    if (!mapped.ok() || mapped->listeners.empty()) std::abort();
    return new core::ServerOptions(*std::move(mapped));
  }();
  return *options;
}

}  // namespace

core::ServerOptions DefaultServerOptions() {
  core::ServerOptions options = Mapped();
  options.workers = 1;
  options.listeners.clear();
  return options;
}

core::ConnectionSettings DefaultConnectionSettings() { return Mapped().settings; }

core::AcceptedSocketOptions DefaultSocketOptions() { return Mapped().socket; }

core::ListenOptions DefaultListenOptions() {
  core::ListenOptions options;
  options.backlog = Mapped().listeners.front().backlog;
  options.reuse_port = Mapped().listeners.front().reuse_port;
  return options;
}

int DefaultBacklog() { return Mapped().listeners.front().backlog; }

int64_t DefaultTickNs() { return Mapped().tick_ns; }

int64_t DefaultMaxConnections() { return Mapped().max_connections; }

core::Worker::Options DefaultWorkerOptions() {
  core::Worker::Options options;
  options.tick_ns = DefaultTickNs();
  options.settings = DefaultConnectionSettings();
  options.socket = DefaultSocketOptions();
  options.worker_count = 1;
  return options;
}

}  // namespace shoal::testing
