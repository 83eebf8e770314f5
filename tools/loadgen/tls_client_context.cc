#include "tools/loadgen/tls_client_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>

#include <cstring>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/loadgen/tls_stream.h"

namespace shoal::loadgen {

namespace {

int StoreNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* slot = static_cast<TlsSessionSlot*>(SSL_get_app_data(ssl));
  if (slot == nullptr) return 0;
  slot->Store(session);
  return 1;  // the slot owns it now
}

bool IsIpLiteral(const std::string& host) {
  unsigned char address[16];
  return inet_pton(AF_INET, host.c_str(), address) == 1 ||
         inet_pton(AF_INET6, host.c_str(), address) == 1;
}

absl::Status Configure(SSL_CTX* ctx, const TlsOptions& options) {
  auto fail = [](std::string_view what) {
    return absl::InvalidArgumentError(TakeOpenSslError(what));
  };
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
  int min_version = TLS1_2_VERSION, max_version = 0;
  if (options.version == "1.2") {
    min_version = max_version = TLS1_2_VERSION;
  } else if (options.version == "1.3") {
    min_version = max_version = TLS1_3_VERSION;
  } else if (!options.version.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_version must be 1.2 or 1.3, not '", options.version, "'"));
  }
  SSL_CTX_set_min_proto_version(ctx, min_version);
  SSL_CTX_set_max_proto_version(ctx, max_version);
  if (!options.ciphers.empty()) {
    std::vector<std::string> suites, ciphers;
    for (absl::string_view name : absl::StrSplit(options.ciphers, ':', absl::SkipEmpty())) {
      (absl::StartsWith(name, "TLS_") ? suites : ciphers).emplace_back(name);
    }
    if (!suites.empty() &&
        SSL_CTX_set_ciphersuites(ctx, absl::StrJoin(suites, ":").c_str()) != 1) {
      return fail(absl::StrCat("--tls_ciphers: no TLS 1.3 suite known in '", options.ciphers, "'"));
    }
    if (!ciphers.empty() &&
        SSL_CTX_set_cipher_list(ctx, absl::StrJoin(ciphers, ":").c_str()) != 1) {
      return fail(absl::StrCat("--tls_ciphers: no TLS 1.2 cipher known in '", options.ciphers, "'"));
    }
  }
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
      return fail(absl::StrCat("--tls_ca: cannot load ", options.ca_file));
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (options.resume) {
    SSL_CTX_set_session_cache_mode(ctx,
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, StoreNewSession);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  }
  return absl::OkStatus();
}

}  // namespace

std::string TakeOpenSslError(std::string_view context) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  std::string reason;
  if (code != 0 && ERR_SYSTEM_ERROR(code)) {
    reason = std::strerror(ERR_GET_REASON(code));
  } else if (const char* text = code != 0 ? ERR_reason_error_string(code) : nullptr) {
    reason = text;
  }
  if (context.empty()) return reason.empty() ? "unknown TLS failure" : reason;
  absl::string_view prefix(context.data(), context.size());
  return reason.empty() ? std::string(prefix) : absl::StrCat(prefix, ": ", reason);
}

absl::StatusOr<std::unique_ptr<TlsClientContext>> TlsClientContext::Create(
    const TlsOptions& options) {
  struct sigaction current = {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    signal(SIGPIPE, SIG_IGN);
  }
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return absl::InternalError(TakeOpenSslError("SSL_CTX_new failed"));
  if (auto status = Configure(ctx, options); !status.ok()) {
    SSL_CTX_free(ctx);
    return status;
  }
  return std::unique_ptr<TlsClientContext>(new TlsClientContext(options, ctx));
}

TlsClientContext::~TlsClientContext() { SSL_CTX_free(ctx_); }

TlsPeer TlsPeerFor(const TlsOptions& options, std::string_view host) {
  TlsPeer peer;
  if (!options.server_name.empty()) {
    peer.sni = peer.check_host = options.server_name;
  } else if (IsIpLiteral(std::string(host))) {
    peer.check_ip = std::string(host);
  } else {
    peer.sni = peer.check_host = std::string(host);
  }
  return peer;
}

}  // namespace shoal::loadgen
