#include "core/tls/tls_context.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "core/tls/tls_context_holder.h"
#include "core/tls/tls_session.h"
#include "tests/support/tls_certs.h"

namespace shoal::core {
namespace {

using shoal::testing::MakeTestCertificates;
using shoal::testing::TestCertificates;

TestCertificates Certificates() {
  auto made = MakeTestCertificates();
  EXPECT_TRUE(made.ok()) << made.status();
  return *made;
}

TlsOptions OptionsFor(const TestCertificates& certificates) {
  return {certificates.certificate_chain, certificates.private_key, TlsVersion::k1_2, {}};
}

std::string WriteFile(const std::string& name, const std::string& text) {
  std::string path = std::string(getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(TlsContextTest, GoodFilesMakeAContext) {
  auto context = TlsContext::Create(OptionsFor(Certificates()));
  ASSERT_TRUE(context.ok()) << context.status();
  EXPECT_NE((*context)->ssl_ctx(), nullptr);
}

TEST(TlsContextTest, BadFilesAreNamedWithTheReason) {
  TestCertificates good = Certificates();
  auto other = MakeTestCertificates("other");
  ASSERT_TRUE(other.ok()) << other.status();
  struct Case {
    std::string certificate, key, named, reason;
  } cases[] = {
      {"/nonexistent/server.crt", good.private_key, "/nonexistent/server.crt", "certificate"},
      {good.certificate_chain, "/nonexistent/server.key", "/nonexistent/server.key",
       "private_key"},
      {WriteFile("garbage.crt", "-----BEGIN CERTIFICATE-----\nnot base64 at all\n"),
       good.private_key, "garbage.crt", "certificate"},
      {good.certificate_chain, WriteFile("garbage.key", "hello"), "garbage.key", "private_key"},
      {good.certificate_chain, other->private_key, other->private_key, "mismatch"},
  };
  for (const Case& c : cases) {
    auto context = TlsContext::Create({c.certificate, c.key, TlsVersion::k1_2, {}});
    ASSERT_FALSE(context.ok()) << c.named;
    std::string message(context.status().message());
    EXPECT_NE(message.find(c.named), std::string::npos) << message;
    EXPECT_NE(message.find(c.reason), std::string::npos) << message;
    // OpenSSL's reason follows the path.
    EXPECT_GT(message.size(), message.find(c.named) + c.named.size() + 2) << message;
  }
}

TEST(TlsContextTest, HolderKeepsTheOldContextWhenAReloadFails) {
  TestCertificates good = Certificates();
  std::string certificate = WriteFile("reload.crt", "");
  std::string key = WriteFile("reload.key", "");
  auto copy = [](const std::string& from, const std::string& to) {
    std::ifstream in(from);
    std::ofstream(to) << in.rdbuf();
  };
  copy(good.certificate_chain, certificate);
  copy(good.private_key, key);
  auto holder = TlsContextHolder::Create({certificate, key, TlsVersion::k1_2, {}});
  ASSERT_TRUE(holder.ok()) << holder.status();
  TlsContextView view(*holder);
  auto first = view.Get();
  WriteFile("reload.key", "broken");
  absl::Status reload = (*holder)->Reload();
  EXPECT_FALSE(reload.ok());
  EXPECT_NE(reload.message().find(key), std::string::npos) << reload;
  EXPECT_EQ(view.Get(), first);
  copy(good.private_key, key);
  ASSERT_TRUE((*holder)->Reload().ok());
  EXPECT_NE(view.Get(), first);
}

// A client handshake against a TlsSession over a socketpair, both non-blocking, stepped in turn.
struct Handshake {
  bool server_done = false;
  bool client_done = false;
  std::string version;
  std::string alpn;
};

Handshake RunHandshake(std::shared_ptr<const TlsContext> context, int max_version,
                       const std::string& client_alpn) {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  auto server = TlsSession::Create(std::move(context), fds[0]);
  EXPECT_TRUE(server.ok());
  SSL_CTX* client_ctx = SSL_CTX_new(TLS_client_method());
  if (max_version != 0) SSL_CTX_set_max_proto_version(client_ctx, max_version);
  if (!client_alpn.empty()) {
    std::string wire = static_cast<char>(client_alpn.size()) + client_alpn;
    SSL_CTX_set_alpn_protos(client_ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned int>(wire.size()));
  }
  SSL* client = SSL_new(client_ctx);
  SSL_set_fd(client, fds[1]);
  SSL_set_connect_state(client);
  Handshake result;
  bool failed = false;
  for (int step = 0; step < 20 && !failed && !(result.server_done && result.client_done);
       ++step) {
    if (!result.client_done) {
      int r = SSL_do_handshake(client);
      int error = SSL_get_error(client, r);
      result.client_done = r == 1;
      failed = r != 1 && error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE;
    }
    if (!result.server_done) {
      TransportStatus status = (*server)->Handshake().status;
      result.server_done = status == TransportStatus::kDone;
      failed = failed || (status != TransportStatus::kDone &&
                          status != TransportStatus::kWantRead &&
                          status != TransportStatus::kWantWrite);
    }
  }
  if (result.server_done) {
    result.version = std::string((*server)->version());
    const unsigned char* data = nullptr;
    unsigned int size = 0;
    SSL_get0_alpn_selected(client, &data, &size);
    result.alpn.assign(reinterpret_cast<const char*>(data), size);
  }
  SSL_free(client);
  SSL_CTX_free(client_ctx);
  close(fds[0]);
  close(fds[1]);
  return result;
}

TEST(TlsContextTest, MinVersionIsRespected) {
  TlsOptions options = OptionsFor(Certificates());
  auto any = TlsContext::Create(options);
  ASSERT_TRUE(any.ok());
  Handshake tls12 = RunHandshake(*any, TLS1_2_VERSION, "");
  EXPECT_TRUE(tls12.server_done);
  EXPECT_EQ(tls12.version, "TLSv1.2");
  EXPECT_EQ(RunHandshake(*any, 0, "").version, "TLSv1.3");

  options.min_version = TlsVersion::k1_3;
  auto only13 = TlsContext::Create(options);
  ASSERT_TRUE(only13.ok());
  EXPECT_FALSE(RunHandshake(*only13, TLS1_2_VERSION, "").server_done);
  EXPECT_EQ(RunHandshake(*only13, 0, "").version, "TLSv1.3");
}

TEST(TlsContextTest, AlpnSelectsOursOrFailsTheHandshake) {
  TlsOptions options = OptionsFor(Certificates());
  options.alpn = {"http/1.1"};
  auto context = TlsContext::Create(options);
  ASSERT_TRUE(context.ok());
  Handshake matching = RunHandshake(*context, 0, "http/1.1");
  EXPECT_TRUE(matching.server_done);
  EXPECT_EQ(matching.alpn, "http/1.1");
  EXPECT_FALSE(RunHandshake(*context, 0, "h2").server_done);
  // A client that offers no ALPN at all is served (the extension is optional).
  Handshake none = RunHandshake(*context, 0, "");
  EXPECT_TRUE(none.server_done);
  EXPECT_EQ(none.alpn, "");
}

}  // namespace
}  // namespace shoal::core
