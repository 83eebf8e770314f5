// TlsClientContext: loadgen's client side of TLS, one per run (an OpenSSL SSL_CTX): what is
// offered (versions, ciphers), what is verified (the server certificate against --tls_ca, and its
// name), and whether sessions are resumed on reconnect. TlsPeer is what one target is checked
// against. Each connection's TLS state is a TlsStream (tls_stream.h) made from the context.
//
// Threading: one context per load thread, used on that thread only. (OpenSSL allows sharing an
// SSL_CTX, but verification then fills caches inside the shared CA certificate from several
// threads at once; separate contexts share nothing.) TLS writes go through write(2), so Create
// sets SIGPIPE to ignored when it is at its default (a reset peer is an error, not a death).
#ifndef SHOAL_TOOLS_LOADGEN_TLS_CLIENT_CONTEXT_H_
#define SHOAL_TOOLS_LOADGEN_TLS_CLIENT_CONTEXT_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

using SSL_CTX = struct ssl_ctx_st;

namespace shoal::loadgen {

struct TlsOptions {
  bool enabled = false;
  std::string ca_file;      // PEM; empty = the server certificate is not verified
  std::string server_name;  // SNI and the name checked; empty = each target's host if a name
  std::string version;      // "" = 1.2 or 1.3 as negotiated; "1.2" or "1.3" pins it
  std::string ciphers;      // OpenSSL names, ':'-separated; TLS_* are TLS 1.3 suites; "" = default
  bool resume = false;      // a reconnect resumes the connection's previous session (tickets)
};

// What one target's certificate is checked against, and the SNI sent to it.
struct TlsPeer {
  std::string sni;         // empty: none
  std::string check_host;  // DNS name the certificate must carry (verifying only)
  std::string check_ip;    // IP address the certificate must carry (verifying only)
};

class TlsClientContext {
 public:
  // Errors name the option and OpenSSL's reason (an unreadable CA file, an unknown cipher).
  static absl::StatusOr<std::unique_ptr<TlsClientContext>> Create(const TlsOptions& options);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  bool verifying() const { return !options_.ca_file.empty(); }
  bool resume() const { return options_.resume; }
  SSL_CTX* get() const { return ctx_; }

 private:
  TlsClientContext(const TlsOptions& options, SSL_CTX* ctx) : options_(options), ctx_(ctx) {}

  TlsOptions options_;
  SSL_CTX* ctx_;
};

// The peer for a target whose host part is `host` (a name or an IP literal).
TlsPeer TlsPeerFor(const TlsOptions& options, std::string_view host);

// "CONTEXT: REASON", REASON being OpenSSL's for the oldest failure queued on this thread (the
// queue is emptied); "CONTEXT" when there is none; without a context, the reason alone.
std::string TakeOpenSslError(std::string_view context);

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_TLS_CLIENT_CONTEXT_H_
