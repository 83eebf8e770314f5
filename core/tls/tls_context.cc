#include "core/tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <string>

#include "absl/status/status.h"

namespace shoal::core {
namespace {

int SelectAlpn(SSL*, const unsigned char** out, unsigned char* out_length,
               const unsigned char* offered, unsigned int offered_length, void* arg) {
  const auto* context = static_cast<const TlsContext*>(arg);
  const std::string& ours = context->alpn_wire();
  unsigned char* selected = nullptr;
  int result = SSL_select_next_proto(&selected, out_length,
                                     reinterpret_cast<const unsigned char*>(ours.data()),
                                     static_cast<unsigned int>(ours.size()), offered,
                                     offered_length);
  if (result != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

absl::Status FileError(const char* what, const std::string& path) {
  return absl::InvalidArgumentError(std::string(what) + " " + path + ": " +
                                    TakeOpenSslErrors("unreadable"));
}

}  // namespace

std::string TakeOpenSslErrors(const std::string& fallback) {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char line[256];
    ERR_error_string_n(code, line, sizeof(line));
    if (!text.empty()) text += "; ";
    text += line;
  }
  return text.empty() ? fallback : text;
}

absl::StatusOr<std::shared_ptr<const TlsContext>> TlsContext::Create(const TlsOptions& options) {
  std::shared_ptr<TlsContext> context(new TlsContext());
  ERR_clear_error();
  context->ctx_ = SSL_CTX_new(TLS_server_method());
  if (context->ctx_ == nullptr) {
    return absl::InternalError("SSL_CTX_new: " + TakeOpenSslErrors("failed"));
  }
  SSL_CTX* ctx = context->ctx_;
  if (SSL_CTX_use_certificate_chain_file(ctx, options.certificate_path.c_str()) != 1) {
    return FileError("certificate", options.certificate_path);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, options.private_key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    return FileError("private_key", options.private_key_path);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError("private_key " + options.private_key_path +
                                      " does not match certificate " +
                                      options.certificate_path + ": " +
                                      TakeOpenSslErrors("mismatch"));
  }
  SSL_CTX_set_min_proto_version(
      ctx, options.min_version == TlsVersion::k1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Whole socket reads rather than a header read and a body read per record; the connection reads
  // until WANT_READ, so records buffered inside OpenSSL are never left behind.
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  static const unsigned char kSessionIdContext[] = "shoal";
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof(kSessionIdContext) - 1);
  for (const std::string& protocol : options.alpn) {
    if (protocol.empty() || protocol.size() > 255) {
      return absl::InvalidArgumentError("alpn: protocol name \"" + protocol +
                                        "\" must be 1 to 255 bytes");
    }
    context->alpn_wire_ += static_cast<char>(protocol.size());
    context->alpn_wire_ += protocol;
  }
  if (!context->alpn_wire_.empty()) SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, context.get());
  return std::shared_ptr<const TlsContext>(std::move(context));
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

}  // namespace shoal::core
