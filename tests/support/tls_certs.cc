#include "tests/support/tls_certs.h"

#include <cstdlib>

#include "absl/status/status.h"
#include "tests/support/deadline.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

std::string RunfilesPath(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  return std::string(srcdir != nullptr ? srcdir : ".") + "/shoal/" + path;
}

std::string CertificateDir() {
  const char* tmpdir = std::getenv("TEST_TMPDIR");
  return std::string(tmpdir != nullptr ? tmpdir : "/tmp") + "/tls";
}

}  // namespace

absl::StatusOr<TestCertificates> MakeTestCertificates(const std::string& prefix,
                                                      const std::string& names,
                                                      const std::string& key) {
  const std::string dir = CertificateDir();
  CommandResult result =
      RunCommand({"/bin/bash", RunfilesPath("tools/tls/make-certs.sh"), dir, "--names=" + names,
                  "--key=" + key, "--prefix=" + prefix},
                 Deadline::In(std::chrono::seconds(30)));
  if (result.exit_code != 0) {
    return absl::InternalError("make-certs.sh failed: " + result.err);
  }
  return TestCertificates{
      .ca_certificate = dir + "/ca.crt",
      .certificate = dir + "/" + prefix + ".crt",
      .certificate_chain = dir + "/" + prefix + "-chain.crt",
      .private_key = dir + "/" + prefix + ".key",
  };
}

}  // namespace shoal::testing
