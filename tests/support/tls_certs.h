// Throwaway TLS material for tests: a CA and server certificates signed by it, made by the same
// command users run by hand (tools/tls/make-certs.sh, in the test's runfiles; the depending test
// needs it as data, which this library carries).
//
// Threading: call from one thread at a time (it runs openssl through the script, ~100 ms).
#ifndef SHOAL_TESTS_SUPPORT_TLS_CERTS_H_
#define SHOAL_TESTS_SUPPORT_TLS_CERTS_H_

#include <string>

#include "absl/status/statusor.h"

namespace shoal::testing {

struct TestCertificates {
  std::string ca_certificate;     // PEM, the trust anchor clients are given
  std::string certificate;        // PEM, the server certificate alone
  std::string certificate_chain;  // PEM, server certificate + CA
  std::string private_key;        // PEM
};

// Makes (in TEST_TMPDIR/tls, or /tmp/tls) a CA if there is none yet and a server certificate
// named `prefix` for `names` (comma-separated DNS names or IP addresses) with a `key` of "ec" or
// "rsa". Later calls with other prefixes sign with the same CA.
absl::StatusOr<TestCertificates> MakeTestCertificates(
    const std::string& prefix = "server", const std::string& names = "localhost,127.0.0.1,::1",
    const std::string& key = "ec");

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_TLS_CERTS_H_
