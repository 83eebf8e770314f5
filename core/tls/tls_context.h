// TlsContext: one server-side OpenSSL SSL_CTX built from PEM files, immutable once made.
//
// Create reads the certificate chain and the private key, checks that they match, and sets the
// policy every connection of the listener gets: the minimum protocol version, ALPN (when a list
// is configured, a client offering none of its protocols fails the handshake; an empty list means
// no ALPN), session tickets on, renegotiation refused, partial writes and moving write buffers
// allowed (a write retried after WANT_WRITE may come from a grown buffer), and a peer's missing
// close_notify read as an ordinary end of stream.
//
// Threading: Create from any thread; a made context is shared read-only by any number of threads
// (SSL_new is thread-safe on a shared SSL_CTX). Sessions keep the context alive
// (std::shared_ptr), so a reload never pulls it from under a connection.
#ifndef SHOAL_CORE_TLS_TLS_CONTEXT_H_
#define SHOAL_CORE_TLS_TLS_CONTEXT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace shoal::core {

enum class TlsVersion { k1_2, k1_3 };

// Plain values without defaults of their own (server/application.cc maps them from the config).
struct TlsOptions {
  std::string certificate_path;  // PEM: the server certificate, then its intermediates
  std::string private_key_path;  // PEM
  TlsVersion min_version = TlsVersion::k1_2;
  std::vector<std::string> alpn;  // in the server's order of preference
};

class TlsContext {
 public:
  // InvalidArgument naming the file (or option) and OpenSSL's reason when anything is wrong.
  static absl::StatusOr<std::shared_ptr<const TlsContext>> Create(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* ssl_ctx() const { return ctx_; }
  // The ALPN protocol list in wire format (length-prefixed names), empty for no ALPN.
  const std::string& alpn_wire() const { return alpn_wire_; }

 private:
  TlsContext() = default;

  SSL_CTX* ctx_ = nullptr;
  std::string alpn_wire_;
};

// OpenSSL's queued errors of this thread as one line ("reason; reason"), clearing the queue;
// `fallback` when the queue is empty.
std::string TakeOpenSslErrors(const std::string& fallback);

}  // namespace shoal::core

#endif  // SHOAL_CORE_TLS_TLS_CONTEXT_H_
