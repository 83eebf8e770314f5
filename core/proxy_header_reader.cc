#include "core/proxy_header_reader.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <string_view>

namespace shoal::core {

namespace {
constexpr uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP | EPOLLET;
}  // namespace

ProxyHeaderReaders::ProxyHeaderReaders(EventLoop& loop, Callbacks callbacks)
    : loop_(loop), callbacks_(std::move(callbacks)) {}

ProxyHeaderReaders::~ProxyHeaderReaders() {
  while (ProxyHeaderReader* reader = pending_.PopFront()) {
    loop_.timers().Cancel(reader);
    loop_.Remove(reader->fd_.get());
    delete reader;
  }
}

void ProxyHeaderReaders::Start(ScopedFd fd, const SocketAddress& socket_peer,
                               size_t listener_index, ProxyProtocolMode mode,
                               int64_t timeout_ns) {
  SHOAL_ASSERT_IN_LOOP_THREAD(loop_);
  auto* reader = new ProxyHeaderReader(*this, std::move(fd), socket_peer, listener_index, mode);
  pending_.PushBack(reader);
  if (!loop_.Add(reader->fd_.get(), kReadEvents, reader).ok()) {
    Finish(reader, std::nullopt, CloseReason::kReset);
    return;
  }
  // Readiness already there is reported by the first epoll_wait after the Add.
  loop_.timers().Schedule(reader, DeadlineAfter(loop_.now_ns(), timeout_ns));
}

void ProxyHeaderReaders::CloseAll(CloseReason reason) {
  SHOAL_ASSERT_IN_LOOP_THREAD(loop_);
  while (ProxyHeaderReader* reader = pending_.Front()) Finish(reader, std::nullopt, reason);
}

void ProxyHeaderReaders::Finish(ProxyHeaderReader* reader,
                                const std::optional<SocketAddress>& peer, CloseReason reason) {
  pending_.Remove(reader);
  loop_.timers().Cancel(reader);
  loop_.Remove(reader->fd_.get());
  ScopedFd fd = std::move(reader->fd_);
  const size_t listener_index = reader->listener_index_;
  delete reader;
  if (peer.has_value()) {
    callbacks_.done(std::move(fd), *peer, listener_index);
  } else {
    fd.reset();
    callbacks_.failed(listener_index, reason);
  }
}

ProxyHeaderReader::ProxyHeaderReader(ProxyHeaderReaders& owner, ScopedFd fd,
                                     const SocketAddress& socket_peer, size_t listener_index,
                                     ProxyProtocolMode mode)
    : owner_(owner),
      fd_(std::move(fd)),
      socket_peer_(socket_peer),
      listener_index_(listener_index),
      mode_(mode) {}

ProxyHeaderReader::~ProxyHeaderReader() = default;

void ProxyHeaderReader::HandleEvents(uint32_t events) {
  char bytes[kMaxProxyHeaderBytes];
  ssize_t peeked;
  do {
    peeked = recv(fd_.get(), bytes, sizeof(bytes), MSG_PEEK);
  } while (peeked < 0 && errno == EINTR);
  if (peeked < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    owner_.Finish(this, std::nullopt, CloseReason::kReset);
    return;
  }
  if (peeked == 0) {
    owner_.Finish(this, std::nullopt,
                  received_any_ ? CloseReason::kProxyProtocolError : CloseReason::kPeerClosed);
    return;
  }
  received_any_ = true;
  ProxyDecodeResult decoded =
      DecodeProxyHeader(std::string_view(bytes, static_cast<size_t>(peeked)), mode_);
  switch (decoded.status) {
    case ProxyDecodeResult::Status::kNeedMore:
      // No more bytes will come after the peer's FIN; without it the next edge brings them.
      if (events & (EPOLLRDHUP | EPOLLHUP)) {
        owner_.Finish(this, std::nullopt, CloseReason::kProxyProtocolError);
      }
      return;
    case ProxyDecodeResult::Status::kMalformed:
      owner_.Finish(this, std::nullopt, CloseReason::kProxyProtocolError);
      return;
    case ProxyDecodeResult::Status::kComplete:
      break;
  }
  const size_t length = decoded.header.length;
  ssize_t consumed;
  do {
    consumed = recv(fd_.get(), bytes, length, 0);
  } while (consumed < 0 && errno == EINTR);
  if (consumed != static_cast<ssize_t>(length)) {
    owner_.Finish(this, std::nullopt, CloseReason::kReset);
    return;
  }
  const SocketAddress peer =
      decoded.header.source.has_value() ? *decoded.header.source : socket_peer_;
  owner_.Finish(this, peer, CloseReason::kPeerClosed);
}

void ProxyHeaderReader::OnExpire() {
  owner_.Finish(this, std::nullopt, CloseReason::kReadTimeout);
}

}  // namespace shoal::core
