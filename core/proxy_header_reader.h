// ProxyHeaderReaders: the stage a connection on a PROXY-protocol listener goes through before it
// becomes a Connection. Each reader holds the accepted socket, registers it with the loop
// (edge-triggered), peeks at what has arrived (recv MSG_PEEK, at most kMaxProxyHeaderBytes, so a
// reader holds no buffer of its own), and once DecodeProxyHeader says the header is complete
// consumes exactly its bytes: whatever the client sent after it stays in the socket for the
// session (or a TLS handshake). One timer bounds the whole header by the timeout given at Start.
//
// Outcomes, each reported once through the callbacks (the reader is gone when they run):
//  - done(fd, peer, listener): the header's source address, or the socket's own peer when the
//    header carries none (LOCAL, UNKNOWN, UNSPEC);
//  - failed(listener, reason), the socket closed: proxy_protocol_error (malformed, or the peer
//    shut its side mid-header), read_timeout, peer_closed (closed before sending a byte), reset.
//
// Per event O(1): one peek of at most kMaxProxyHeaderBytes and one decode of it.
// Threading: the owning worker's loop thread only.
#ifndef SHOAL_CORE_PROXY_HEADER_READER_H_
#define SHOAL_CORE_PROXY_HEADER_READER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "core/close_reason.h"
#include "core/event_loop.h"
#include "core/intrusive_list.h"
#include "core/proxy_header.h"
#include "core/socket.h"
#include "core/timer_wheel.h"

namespace shoal::core {

struct ProxyHeaderReaderTag;
class ProxyHeaderReader;

class ProxyHeaderReaders {
 public:
  struct Callbacks {
    std::function<void(ScopedFd fd, const SocketAddress& peer, size_t listener_index)> done;
    std::function<void(size_t listener_index, CloseReason reason)> failed;
  };

  ProxyHeaderReaders(EventLoop& loop, Callbacks callbacks);
  // Closes the pending sockets without calling back.
  ~ProxyHeaderReaders();
  ProxyHeaderReaders(const ProxyHeaderReaders&) = delete;
  ProxyHeaderReaders& operator=(const ProxyHeaderReaders&) = delete;

  // Reads the header `mode` asks for on `fd` (accepted from `socket_peer`) within `timeout_ns`.
  void Start(ScopedFd fd, const SocketAddress& socket_peer, size_t listener_index,
             ProxyProtocolMode mode, int64_t timeout_ns);
  // Closes every pending socket with `reason` (each reported through `failed`).
  void CloseAll(CloseReason reason);
  size_t pending() const { return pending_.size(); }

 private:
  friend class ProxyHeaderReader;
  // Ends `reader` (deleting it): done with `peer` when set, else failed with `reason`.
  void Finish(ProxyHeaderReader* reader, const std::optional<SocketAddress>& peer,
              CloseReason reason);

  EventLoop& loop_;
  Callbacks callbacks_;
  IntrusiveList<ProxyHeaderReader, ProxyHeaderReaderTag> pending_;
};

class ProxyHeaderReader final : private IoHandler,
                                private Timer,
                                public IntrusiveListNode<ProxyHeaderReaderTag> {
 public:
  ~ProxyHeaderReader() override;

 private:
  friend class ProxyHeaderReaders;

  ProxyHeaderReader(ProxyHeaderReaders& owner, ScopedFd fd, const SocketAddress& socket_peer,
                    size_t listener_index, ProxyProtocolMode mode);
  void HandleEvents(uint32_t events) override;
  void OnExpire() override;

  ProxyHeaderReaders& owner_;
  ScopedFd fd_;
  SocketAddress socket_peer_;
  size_t listener_index_;
  ProxyProtocolMode mode_;
  bool received_any_ = false;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_PROXY_HEADER_READER_H_
