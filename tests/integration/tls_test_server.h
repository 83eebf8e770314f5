// What the TLS integration tests share: an in-process server of any protocol with TLS on its
// listener (certificates from tests/support/tls_certs), and the client options that trust it.
#ifndef SHOAL_TESTS_INTEGRATION_TLS_TEST_SERVER_H_
#define SHOAL_TESTS_INTEGRATION_TLS_TEST_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/tls/tls_context_holder.h"
#include "tests/support/test_server.h"
#include "tests/support/tls_certs.h"
#include "tests/support/tls_client.h"

namespace shoal::testing {

struct TlsTestServer {
  std::unique_ptr<TestServer> server;
  std::shared_ptr<core::TlsContextHolder> tls;
  TestCertificates certificates;
  TlsClientOptions client;  // trusts the server's CA, names it localhost

  absl::StatusOr<std::unique_ptr<TlsClient>> Connect() const {
    return TlsClient::Connect(server->port(), client);
  }
  // Handshakes counted over every worker.
  uint64_t handshakes_ok() const { return Sum(&core::TlsStats::handshakes_ok); }
  uint64_t handshakes_failed() const { return Sum(&core::TlsStats::handshakes_failed); }

 private:
  uint64_t Sum(core::Counter core::TlsStats::*counter) const {
    uint64_t total = 0;
    for (int w = 0; w < server->worker_count(); ++w) {
      total += (server->listener_stats(w).tls.*counter).value();
    }
    return total;
  }
};

// `options.tls` is filled in; `tls` (min_version, alpn) starts from the certificate made here.
inline absl::StatusOr<TlsTestServer> StartTlsServer(TestServerOptions options,
                                                    core::TlsOptions tls = {}) {
  auto certificates = MakeTestCertificates();
  if (!certificates.ok()) return certificates.status();
  tls.certificate_path = certificates->certificate_chain;
  tls.private_key_path = certificates->private_key;
  auto holder = core::TlsContextHolder::Create(tls);
  if (!holder.ok()) return holder.status();
  options.tls = *holder;
  auto server = TestServer::Start(options);
  if (!server.ok()) return server.status();
  TlsTestServer result{*std::move(server), *holder, *certificates, {}};
  result.client.ca_file = certificates->ca_certificate;
  return result;
}

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_INTEGRATION_TLS_TEST_SERVER_H_
