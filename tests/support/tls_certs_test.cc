#include "tests/support/tls_certs.h"

#include <gtest/gtest.h>

#include "tests/support/deadline.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

TEST(TlsCertsTest, ServerCertificatesVerifyAgainstTheOneCa) {
  auto first = MakeTestCertificates("first");
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = MakeTestCertificates("second", "example.test", "rsa");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->ca_certificate, second->ca_certificate);
  for (const TestCertificates* made : {&*first, &*second}) {
    CommandResult verify = RunCommand(
        {"/usr/bin/openssl", "verify", "-CAfile", made->ca_certificate, made->certificate},
        Deadline::In(std::chrono::seconds(10)));
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  }
  CommandResult names = RunCommand({"/usr/bin/openssl", "x509", "-in", second->certificate,
                                    "-noout", "-ext", "subjectAltName"},
                                   Deadline::In(std::chrono::seconds(10)));
  EXPECT_NE(names.out.find("DNS:example.test"), std::string::npos) << names.out;
  EXPECT_EQ(names.out.find("127.0.0.1"), std::string::npos) << names.out;
}

}  // namespace
}  // namespace shoal::testing
