// The core option structs as the shoal binary fills them from the built-in default config
// (server/application.h applied to server::Config::Default()). Core structs have no defaults of
// their own; a test that needs "the defaults" takes them from here and changes only what it tests.
//
// Value-returning functions: call from any thread.
#ifndef SHOAL_TESTS_SUPPORT_DEFAULT_OPTIONS_H_
#define SHOAL_TESTS_SUPPORT_DEFAULT_OPTIONS_H_

#include <cstdint>

#include "core/connection.h"
#include "core/server.h"
#include "core/socket.h"
#include "core/worker.h"

namespace shoal::testing {

// Every field of ServerOptions but listeners (empty) and workers (1).
core::ServerOptions DefaultServerOptions();
core::ConnectionSettings DefaultConnectionSettings();
core::AcceptedSocketOptions DefaultSocketOptions();
// The default listener's backlog and reuseport.
core::ListenOptions DefaultListenOptions();
int DefaultBacklog();
int64_t DefaultTickNs();
int64_t DefaultMaxConnections();
// A worker's options with the default tick, settings and socket options (index 0, one worker, no
// process-wide counters).
core::Worker::Options DefaultWorkerOptions();

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_DEFAULT_OPTIONS_H_
