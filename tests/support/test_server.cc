#include "tests/support/test_server.h"

#include <future>
#include <sstream>
#include <utility>

#include "server/protocols/registry.h"

namespace shoal::testing {

namespace {

absl::StatusOr<core::ProtocolFactory> FactoryFor(const TestServerOptions& options) {
  if (options.factory) return options.factory;
  const protocols::Registration* registration = protocols::Find(options.protocol);
  if (registration == nullptr) {
    return absl::InvalidArgumentError("unknown protocol '" + options.protocol + "'");
  }
  server::ListenerConfig listener = options.config.listeners.front();
  listener.protocol = options.protocol;
  return [registration, config = options.config, listener](size_t, int) {
    return std::unique_ptr<core::Protocol>(registration->make(config, listener));
  };
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestServer>> TestServer::Start(const TestServerOptions& options) {
  auto address = core::SocketAddress::Parse("127.0.0.1:0");
  if (!address.ok()) return address.status();
  core::ServerOptions server_options = DefaultServerOptions();
  server_options.workers = options.workers;
  server_options.tick_ns = options.tick_ns;
  server_options.settings = options.settings;
  server_options.socket = options.socket;
  server_options.max_connections = options.max_connections;
  auto factory = FactoryFor(options);
  if (!factory.ok()) return factory.status();
  const char* name = options.factory ? "test" : options.protocol.c_str();
  server_options.per_source = options.per_source;
  server_options.listeners.push_back({name, *address, options.backlog, true, false, {},
                                      options.balance, options.proxy_protocol,
                                      options.trusted_proxies});
  server_options.listeners.back().tls = options.tls;
  auto server = core::Server::Create(server_options, *factory);
  if (!server.ok()) return server.status();
  std::unique_ptr<TestServer> result(new TestServer());
  result->server_ = std::move(*server);
  if (result->server_->bound_addresses().size() != 1) {
    return absl::InternalError("expected exactly one bound address");
  }
  result->address_ = result->server_->bound_addresses()[0];
  if (result->address_.port() == 0) return absl::InternalError("bound port is 0");
  if (auto status = result->server_->Start(); !status.ok()) return status;
  return result;
}

TestServer::~TestServer() {
  if (server_) server_->Stop();
}

std::string TestServer::address_text() const { return "127.0.0.1:" + std::to_string(port()); }

const core::WorkerStats& TestServer::worker_stats(int worker) const {
  return server_->workers()[static_cast<size_t>(worker)]->stats();
}

const core::ListenerStats& TestServer::listener_stats(int worker) const {
  return *worker_stats(worker).listeners[0];
}

template <typename Read>
auto TestServer::Sum(Read read) const {
  decltype(read(listener_stats(0))) sum = 0;
  for (int w = 0; w < worker_count(); ++w) sum += read(listener_stats(w));
  return sum;
}

uint64_t TestServer::accepted() const {
  return Sum([](const core::ListenerStats& l) { return l.accepted.value(); });
}

int64_t TestServer::active() const {
  return Sum([](const core::ListenerStats& l) { return l.active.value(); });
}

uint64_t TestServer::closed(core::CloseReason reason) const {
  const auto r = static_cast<size_t>(reason);
  return Sum([r](const core::ListenerStats& l) { return l.closed[r].value(); });
}

uint64_t TestServer::closed_total() const {
  uint64_t sum = 0;
  for (size_t r = 0; r < core::kCloseReasonCount; ++r) {
    sum += closed(static_cast<core::CloseReason>(r));
  }
  return sum;
}

uint64_t TestServer::requests() const {
  return Sum([](const core::ListenerStats& l) { return l.requests.value(); });
}

uint64_t TestServer::bytes_received() const {
  return Sum([](const core::ListenerStats& l) { return l.bytes_received.value(); });
}

uint64_t TestServer::bytes_sent() const {
  return Sum([](const core::ListenerStats& l) { return l.bytes_sent.value(); });
}

size_t AcceptErrorIndex(int err) {
  for (size_t i = 0; i < core::kCountedAcceptErrnos.size(); ++i) {
    if (core::kCountedAcceptErrnos[i] == err) return i;
  }
  return core::kCountedAcceptErrnos.size();
}

uint64_t TestServer::accept_errors(int err) const {
  const size_t i = AcceptErrorIndex(err);
  return Sum([i](const core::ListenerStats& l) { return l.accept_errors[i].value(); });
}

std::vector<uint64_t> TestServer::accepted_per_worker() const {
  std::vector<uint64_t> result;
  for (int w = 0; w < worker_count(); ++w) result.push_back(listener_stats(w).accepted.value());
  return result;
}

bool TestServer::Barrier(Deadline deadline) {
  std::vector<std::future<void>> done;
  for (const auto& worker : server_->workers()) {
    // Shared: if we give up, the task still finds its promise alive when it runs.
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    worker->event_loop().Post([promise] { promise->set_value(); });
  }
  for (auto& future : done) {
    if (future.wait_until(deadline.at()) != std::future_status::ready) return false;
  }
  return true;
}

std::string TestServer::StatsSummary() {
  std::ostringstream out;
  if (!Barrier(seconds(1))) out << "(workers busy) ";
  for (int w = 0; w < worker_count(); ++w) {
    const core::WorkerStats& ws = worker_stats(w);
    const core::ListenerStats& ls = listener_stats(w);
    out << "[worker " << w << ": accepted=" << ls.accepted.value()
        << " active=" << ls.active.value() << " requests=" << ls.requests.value()
        << " rx=" << ls.bytes_received.value() << " tx=" << ls.bytes_sent.value()
        << " queued=" << ws.output_queue_bytes.value()
        << " pauses=" << ws.backpressure_pauses.value()
        << " resumes=" << ws.backpressure_resumes.value() << " closed{";
    for (size_t r = 0; r < core::kCloseReasonCount; ++r) {
      uint64_t n = ls.closed[r].value();
      if (n == 0) continue;
      out << core::CloseReasonName(static_cast<core::CloseReason>(r)) << "=" << n << " ";
    }
    out << "} accept_errors{";
    for (size_t i = 0; i < ls.accept_errors.size(); ++i) {
      uint64_t n = ls.accept_errors[i].value();
      if (n == 0) continue;
      if (i < core::kCountedAcceptErrnos.size()) {
        out << "errno" << core::kCountedAcceptErrnos[i] << "=" << n << " ";
      } else {
        out << "other=" << n << " ";
      }
    }
    out << "} turns=" << ws.loop_turn.count() << "] ";
  }
  return out.str();
}

}  // namespace shoal::testing
