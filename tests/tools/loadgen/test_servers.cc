#include "tests/tools/loadgen/test_servers.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string_view>

#include "core/protocol.h"
#include "server/protocols/echo.h"
#include "server/protocols/http/http_protocol.h"

namespace shoal::loadgen::testing {

namespace {

uint32_t FrameLength(std::string_view header) {
  const auto* b = reinterpret_cast<const unsigned char*>(header.data());
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

// Echo with one deliberate fault per connection.
class FaultySession final : public core::Session {
 public:
  FaultySession(core::SessionContext& connection, Fault fault, uint64_t fault_frame,
                std::atomic<uint64_t>& frames)
      : Session(connection), fault_(fault), fault_frame_(fault_frame), frames_(frames) {}

  size_t OnData(std::string_view input) override {
    size_t position = 0;
    while (input.size() - position >= 4) {
      const size_t length = FrameLength(input.substr(position, 4));
      if (input.size() - position - 4 < length) break;
      std::string_view frame = input.substr(position, 4 + length);
      position += 4 + length;
      frames_.fetch_add(1, std::memory_order_relaxed);
      const uint64_t index = next_frame_++;
      connection().CountRequests(1);
      if (fault_ == Fault::kCorruptByte && index == fault_frame_ && length > 0) {
        std::string corrupted(frame);
        corrupted.back() = static_cast<char>(corrupted.back() ^ 0x01);
        connection().Send(corrupted);
      } else if (fault_ == Fault::kSwapFrames && index == fault_frame_) {
        held_.assign(frame);  // answered after the next frame
      } else {
        connection().Send(frame);
        if (!held_.empty()) {
          connection().Send(held_);
          held_.clear();
        }
      }
    }
    return position;
  }

  bool RequestInProgress() const override { return false; }

 private:
  Fault fault_;
  uint64_t fault_frame_;
  std::atomic<uint64_t>& frames_;
  uint64_t next_frame_ = 0;
  std::string held_;
};

class FaultyProtocol final : public core::Protocol {
 public:
  FaultyProtocol(Fault fault, uint64_t fault_frame, std::shared_ptr<std::atomic<uint64_t>> frames,
                 std::shared_ptr<std::atomic<uint64_t>> sessions)
      : fault_(fault), fault_frame_(fault_frame), frames_(std::move(frames)),
        sessions_(std::move(sessions)) {}
  std::unique_ptr<core::Session> NewSession(core::SessionContext& connection) override {
    sessions_->fetch_add(1);
    return std::make_unique<FaultySession>(connection, fault_, fault_frame_, *frames_);
  }

 private:
  Fault fault_;
  uint64_t fault_frame_;
  std::shared_ptr<std::atomic<uint64_t>> frames_;
  std::shared_ptr<std::atomic<uint64_t>> sessions_;
};

bool ReadExactly(int fd, char* out, size_t bytes) {
  while (bytes > 0) {
    ssize_t n = recv(fd, out, bytes, 0);
    if (n <= 0) return false;
    out += n;
    bytes -= static_cast<size_t>(n);
  }
  return true;
}

bool WriteAll(int fd, const char* data, size_t bytes) {
  while (bytes > 0) {
    ssize_t n = send(fd, data, bytes, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    bytes -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestServer>> TestServer::Start(Kind kind, int workers, Fault fault,
                                                              uint64_t fault_frame) {
  std::unique_ptr<TestServer> test_server(new TestServer());
  core::ServerOptions options;
  options.workers = workers;
  options.listeners.push_back({"test", *core::SocketAddress::Parse("127.0.0.1:0"), 1024, true});
  auto frames = test_server->frames_;
  auto sessions = test_server->sessions_;
  auto router = http::MakeDefaultRouter();
  auto server = core::Server::Create(
      options, [=](size_t, int) -> std::unique_ptr<core::Protocol> {
        switch (kind) {
          case Kind::kShoalEcho:
            return std::make_unique<server::EchoProtocol>(server::EchoSettings{1 << 20});
          case Kind::kShoalHttp:
            return std::make_unique<http::HttpProtocol>(http::Limits{}, router);
          case Kind::kFaultyEcho:
            return std::make_unique<FaultyProtocol>(fault, fault_frame, frames, sessions);
        }
        return nullptr;
      });
  if (!server.ok()) return server.status();
  test_server->server_ = std::move(*server);
  if (auto status = test_server->server_->Start(); !status.ok()) return status;
  return test_server;
}

TestServer::~TestServer() {
  if (server_ != nullptr) server_->Stop();
}

std::string TestServer::address() const {
  return "127.0.0.1:" + std::to_string(server_->bound_addresses()[0].port());
}

absl::StatusOr<std::unique_ptr<StallingEchoServer>> StallingEchoServer::Start(uint64_t stall_frame,
                                                                              int stall_ms) {
  std::unique_ptr<StallingEchoServer> server(new StallingEchoServer());
  auto listener = core::Listen(*core::SocketAddress::Parse("127.0.0.1:0"), {16, false});
  if (!listener.ok()) return listener.status();
  server->listener_ = std::move(*listener);
  auto local = core::LocalAddress(server->listener_.get());
  if (!local.ok()) return local.status();
  server->port_ = local->port();
  server->stall_frame_ = stall_frame;
  server->stall_ms_ = stall_ms;
  server->thread_ = std::thread([s = server.get()] { s->Serve(); });
  return server;
}

void StallingEchoServer::Serve() {
  pollfd p{listener_.get(), POLLIN, 0};
  if (poll(&p, 1, 30'000) <= 0) return;
  core::ScopedFd client(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!client.valid()) return;
  std::string frame;
  for (uint64_t index = 0;; ++index) {
    char header[4];
    if (!ReadExactly(client.get(), header, 4)) return;
    frame.assign(header, 4);
    frame.resize(4 + FrameLength(std::string_view(header, 4)));
    if (!ReadExactly(client.get(), frame.data() + 4, frame.size() - 4)) return;
    if (index == stall_frame_) std::this_thread::sleep_for(std::chrono::milliseconds(stall_ms_));
    if (!WriteAll(client.get(), frame.data(), frame.size())) return;
  }
}

StallingEchoServer::~StallingEchoServer() {
  if (thread_.joinable()) thread_.join();
}

std::string StallingEchoServer::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

}  // namespace shoal::loadgen::testing
