#include "tests/support/tls_client.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>

#include <functional>
#include <utility>

#include "tests/support/client_socket.h"

namespace shoal::testing {
namespace {

std::string OpenSslErrors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char line[256];
    ERR_error_string_n(code, line, sizeof(line));
    text += (text.empty() ? "" : "; ") + std::string(line);
  }
  return text;
}

absl::Status WaitReady(int fd, short events, Deadline deadline) {
  pollfd entry{fd, events, 0};
  int n = poll(&entry, 1, deadline.remaining_ms());
  if (n == 0) return absl::DeadlineExceededError("timed out");
  if (n < 0) return absl::InternalError("poll failed");
  return absl::OkStatus();
}

SSL_CTX* NewClientContext(const TlsClientOptions& options) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (options.max_version != 0) SSL_CTX_set_max_proto_version(ctx, options.max_version);
  if (!options.ca_file.empty()) {
    SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  if (!options.alpn.empty()) {
    std::string wire;
    for (const std::string& protocol : options.alpn) {
      wire += static_cast<char>(protocol.size());
      wire += protocol;
    }
    SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned int>(wire.size()));
  }
  return ctx;
}

SSL* NewClientSsl(SSL_CTX* ctx, const TlsClientOptions& options) {
  SSL* ssl = SSL_new(ctx);
  SSL_set_tlsext_host_name(ssl, options.server_name.c_str());
  if (!options.ca_file.empty()) SSL_set1_host(ssl, options.server_name.c_str());
  SSL_set_connect_state(ssl);
  return ssl;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsClient>> TlsClient::Connect(uint16_t port,
                                                              const TlsClientOptions& options,
                                                              Deadline deadline) {
  signal(SIGPIPE, SIG_IGN);
  auto fd = testing::Connect(port, deadline, {.receive_buffer = options.receive_buffer});
  if (!fd.ok()) return fd.status();
  fcntl(fd->get(), F_SETFL, fcntl(fd->get(), F_GETFL) | O_NONBLOCK);
  SSL_CTX* ctx = NewClientContext(options);
  SSL* ssl = NewClientSsl(ctx, options);
  SSL_set_fd(ssl, fd->get());
  std::unique_ptr<TlsClient> client(new TlsClient(*std::move(fd), ctx, ssl));
  auto done = client->Retry("handshake", deadline, [&] { return SSL_do_handshake(ssl); });
  if (!done.ok()) return done.status();
  return client;
}

TlsClient::TlsClient(core::ScopedFd fd, SSL_CTX* ctx, SSL* ssl)
    : fd_(std::move(fd)), ctx_(ctx), ssl_(ssl) {}

TlsClient::~TlsClient() {
  SSL_free(ssl_);
  SSL_CTX_free(ctx_);
}

absl::StatusOr<int> TlsClient::Retry(const char* what, Deadline deadline,
                                     const std::function<int()>& op) {
  for (;;) {
    ERR_clear_error();
    int result = op();
    if (result > 0) return result;
    int error = SSL_get_error(ssl_, result);
    short events = error == SSL_ERROR_WANT_READ    ? POLLIN
                   : error == SSL_ERROR_WANT_WRITE ? POLLOUT
                                                   : 0;
    if (events == 0) {
      if (error == SSL_ERROR_ZERO_RETURN) return absl::OutOfRangeError("close_notify");
      if (error == SSL_ERROR_SYSCALL && errno != 0) {
        return absl::UnavailableError(std::string(what) + ": " + strerror(errno));
      }
      std::string reason = OpenSslErrors();
      if (error == SSL_ERROR_SYSCALL || reason.find("unexpected eof") != std::string::npos) {
        return absl::DataLossError(std::string(what) + ": eof without close_notify");
      }
      return absl::InternalError(std::string(what) + ": " + reason);
    }
    if (auto ready = WaitReady(fd_.get(), events, deadline); !ready.ok()) {
      return absl::DeadlineExceededError(std::string(what) + ": timed out");
    }
  }
}

absl::Status TlsClient::Write(std::string_view bytes, Deadline deadline) {
  while (!bytes.empty()) {
    auto n = Retry("write", deadline, [&] {
      return SSL_write(ssl_, bytes.data(), static_cast<int>(std::min<size_t>(bytes.size(), 1 << 20)));
    });
    if (!n.ok()) return n.status();
    bytes.remove_prefix(static_cast<size_t>(*n));
  }
  return absl::OkStatus();
}

absl::Status TlsClient::WriteRecordsInOneSend(const std::vector<std::string>& records,
                                              Deadline deadline) {
  BIO* memory = BIO_new(BIO_s_mem());
  BIO* socket = SSL_get_wbio(ssl_);
  BIO_up_ref(socket);
  SSL_set0_wbio(ssl_, memory);
  for (const std::string& record : records) {
    SSL_write(ssl_, record.data(), static_cast<int>(record.size()));
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(memory, &data);
  std::string ciphertext(data, static_cast<size_t>(size));
  SSL_set0_wbio(ssl_, socket);
  auto ready = WaitReady(fd_.get(), POLLOUT, deadline);
  if (!ready.ok()) return ready;
  ssize_t sent = send(fd_.get(), ciphertext.data(), ciphertext.size(), MSG_NOSIGNAL);
  if (sent == static_cast<ssize_t>(ciphertext.size())) return absl::OkStatus();
  // Not one send: the socket took only part (the caller's test would not test what it says).
  return absl::InternalError("one send() took " + std::to_string(sent) + " of " +
                             std::to_string(ciphertext.size()) + " bytes");
}

absl::StatusOr<std::string> TlsClient::ReadExactly(size_t n, Deadline deadline) {
  while (buffered_.size() < n) {
    char chunk[16384];
    auto got = Retry("read", deadline, [&] { return SSL_read(ssl_, chunk, sizeof(chunk)); });
    if (!got.ok()) return got.status();
    buffered_.append(chunk, static_cast<size_t>(*got));
  }
  std::string out = buffered_.substr(0, n);
  buffered_.erase(0, n);
  return out;
}

absl::StatusOr<std::string> TlsClient::ReadUntil(std::string_view delimiter, Deadline deadline) {
  for (;;) {
    size_t at = buffered_.find(delimiter);
    if (at != std::string::npos) return ReadExactly(at + delimiter.size(), deadline);
    char chunk[16384];
    auto got = Retry("read", deadline, [&] { return SSL_read(ssl_, chunk, sizeof(chunk)); });
    if (!got.ok()) return got.status();
    buffered_.append(chunk, static_cast<size_t>(*got));
  }
}

TlsClient::End TlsClient::ReadToEnd(Deadline deadline) {
  End end;
  for (;;) {
    char chunk[16384];
    auto got = Retry("read", deadline, [&] { return SSL_read(ssl_, chunk, sizeof(chunk)); });
    if (!got.ok()) {
      end.data = std::move(buffered_) + end.data;
      end.how = absl::IsOutOfRange(got.status()) ? absl::OkStatus() : got.status();
      return end;
    }
    end.data.append(chunk, static_cast<size_t>(*got));
  }
}

absl::Status TlsClient::Shutdown(Deadline deadline) {
  ERR_clear_error();
  int result = SSL_shutdown(ssl_);
  if (result >= 0) return absl::OkStatus();
  auto done = Retry("shutdown", deadline, [&] { return SSL_shutdown(ssl_) >= 0 ? 1 : -1; });
  return done.status();
}

std::string TlsClient::version() const { return SSL_get_version(ssl_); }

std::string TlsClient::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int size = 0;
  SSL_get0_alpn_selected(ssl_, &data, &size);
  return std::string(reinterpret_cast<const char*>(data), size);
}

std::string TlsClient::peer_subject() const {
  X509* certificate = SSL_get1_peer_certificate(ssl_);
  if (certificate == nullptr) return "";
  char line[512];
  X509_NAME_oneline(X509_get_subject_name(certificate), line, sizeof(line));
  X509_free(certificate);
  return line;
}

std::string TlsClient::peer_serial() const {
  X509* certificate = SSL_get1_peer_certificate(ssl_);
  if (certificate == nullptr) return "";
  BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get_serialNumber(certificate), nullptr);
  char* hex = BN_bn2hex(serial);
  std::string text = hex;
  OPENSSL_free(hex);
  BN_free(serial);
  X509_free(certificate);
  return text;
}

absl::StatusOr<core::ScopedFd> SendPartialClientHello(uint16_t port, size_t bytes,
                                                      Deadline deadline) {
  signal(SIGPIPE, SIG_IGN);
  SSL_CTX* ctx = NewClientContext({});
  SSL* ssl = NewClientSsl(ctx, {});
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_do_handshake(ssl);
  char* data = nullptr;
  long size = BIO_get_mem_data(out, &data);
  std::string hello(data, static_cast<size_t>(size));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  auto fd = testing::Connect(port, deadline);
  if (!fd.ok()) return fd.status();
  if (auto sent = SendAll(fd->get(), std::string_view(hello).substr(0, bytes), deadline);
      !sent.ok()) {
    return sent;
  }
  return fd;
}

}  // namespace shoal::testing
