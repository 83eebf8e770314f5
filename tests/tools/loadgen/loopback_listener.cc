#include "tests/tools/loadgen/loopback_listener.h"

namespace shoal::testing {

absl::StatusOr<LoopbackListener> ListenOnLoopback(int backlog) {
  auto fd = core::Listen(*core::SocketAddress::Parse("127.0.0.1:0"), {backlog, false});
  if (!fd.ok()) return fd.status();
  auto local = core::LocalAddress(fd->get());
  if (!local.ok()) return local.status();
  return LoopbackListener{std::move(*fd), local->port()};
}

}  // namespace shoal::testing
