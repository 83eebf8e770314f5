// loadgen --tls against nginx over real sockets: the server certificate verified against the CA
// (as an IP, and as a name), a wrong CA or server name counted as tls_handshake errors, one
// handshake per request with --reconnect_every=1 (resumed with --tls_resume, TLS 1.2 and 1.3),
// and the binary's flags and report.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "tests/support/subprocess.h"
#include "tests/support/tls_certs.h"
#include "tests/tools/loadgen/https_nginx.h"
#include "tools/loadgen/loadgen.h"

namespace shoal::testing {
namespace {

class LoadgenTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto certificates = MakeTestCertificates();
    ASSERT_TRUE(certificates.ok()) << certificates.status();
    certificates_ = new TestCertificates(*certificates);
    auto nginx = HttpsNginx::Start(certificates->certificate_chain, certificates->private_key);
    ASSERT_TRUE(nginx.ok()) << nginx.status();
    nginx_ = nginx->release();
  }

  static void TearDownTestSuite() {
    delete nginx_;
    delete certificates_;
  }

  void SetUp() override {
    ASSERT_NE(nginx_, nullptr);
  }

  // An http run over TLS to nginx, verifying against the test CA.
  static loadgen::Options TlsRun(int connections, int64_t requests) {
    loadgen::Options options;
    options.targets = {nginx_->address()};
    options.protocol = "http";
    options.connections = connections;
    options.threads = 2;
    options.requests = requests;
    options.timeout_ns = 5'000'000'000;
    options.tls.enabled = true;
    options.tls.ca_file = certificates_->ca_certificate;
    return options;
  }

  static TestCertificates* certificates_;
  static HttpsNginx* nginx_;
};

TestCertificates* LoadgenTlsTest::certificates_ = nullptr;
HttpsNginx* LoadgenTlsTest::nginx_ = nullptr;

TEST_F(LoadgenTlsTest, VerifiesTheCertificateAndAnswersEveryPipelinedRequest) {
  loadgen::Options options = TlsRun(3, 900);
  options.pipeline = 16;  // many responses in one TLS read: all must come out of OpenSSL
  options.verify = true;
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requests, 900u);
  EXPECT_EQ(result->verified, 900u);
  EXPECT_EQ(result->errors.total(), 0u) << result->tls.first_error;
  EXPECT_EQ(result->tls.handshakes, 3u);
  EXPECT_EQ(result->tls.latency.count(), 3u);
  EXPECT_EQ(result->tls.negotiated.rfind("TLSv1.", 0), 0u) << result->tls.negotiated;
  EXPECT_EQ(loadgen::ExitCode(*result), 0);
}

TEST_F(LoadgenTlsTest, ChecksTheNameOfANamedTarget) {
  loadgen::Options options = TlsRun(1, 20);
  options.targets = {"localhost:" + std::to_string(nginx_->port())};
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requests, 20u);
  EXPECT_EQ(result->errors.total(), 0u) << result->tls.first_error;
}

TEST_F(LoadgenTlsTest, AWrongCaFailsEveryHandshakeAndCountsThem) {
  const char* tmpdir = std::getenv("TEST_TMPDIR");
  const std::string other = std::string(tmpdir != nullptr ? tmpdir : "/tmp") + "/other-ca";
  CommandResult made = RunCommand(
      {"/bin/bash", std::string(std::getenv("TEST_SRCDIR")) + "/shoal/tools/tls/make-certs.sh",
       other},
      seconds(30));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  loadgen::Options options = TlsRun(2, 100);
  options.tls.ca_file = other + "/ca.crt";
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requests, 0u);
  EXPECT_EQ(result->tls.handshakes, 0u);
  // Each connection gives up after 10 failed attempts in a row.
  EXPECT_EQ(result->errors.tls_handshake, 20u);
  EXPECT_EQ(result->errors.total(), result->errors.tls_handshake);
  EXPECT_NE(result->tls.first_error.find("certificate verify failed"), std::string::npos)
      << result->tls.first_error;
  EXPECT_EQ(loadgen::ExitCode(*result), 1);
}

TEST_F(LoadgenTlsTest, AWrongServerNameFailsTheHostnameCheck) {
  loadgen::Options options = TlsRun(1, 10);
  options.tls.server_name = "not-the-server.example";
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->requests, 0u);
  EXPECT_GT(result->errors.tls_handshake, 0u);
  EXPECT_NE(result->tls.first_error.find("hostname mismatch"), std::string::npos)
      << result->tls.first_error;
}

TEST_F(LoadgenTlsTest, ReconnectEveryRequestIsOneHandshakePerRequest) {
  for (const char* version : {"1.2", "1.3"}) {
    SCOPED_TRACE(version);
    for (bool resume : {false, true}) {
      SCOPED_TRACE(resume ? "resumed" : "full handshakes");
      loadgen::Options options = TlsRun(2, 200);
      options.reconnect_every = 1;
      options.tls.version = version;
      options.tls.resume = resume;
      auto result = loadgen::Run(options);
      ASSERT_TRUE(result.ok()) << result.status();
      EXPECT_EQ(result->requests, 200u);
      EXPECT_EQ(result->errors.total(), 0u) << result->tls.first_error;
      // The two first connects came before the window; each later connection is one request.
      EXPECT_EQ(result->tls.handshakes, 200u);
      EXPECT_EQ(result->tls.handshakes_measured, 198u);
      EXPECT_GT(result->handshakes_per_second(), 0);
      EXPECT_EQ(result->tls.negotiated.rfind(std::string("TLSv") + version, 0), 0u)
          << result->tls.negotiated;
      if (resume) {
        EXPECT_EQ(result->tls.resumed, 198u);  // all but each connection's first
      } else {
        EXPECT_EQ(result->tls.resumed, 0u);
      }
    }
  }
}

TEST_F(LoadgenTlsTest, PinnedSuiteIsTheOneNegotiated) {
  loadgen::Options options = TlsRun(1, 10);
  options.tls.version = "1.3";
  options.tls.ciphers = "TLS_AES_128_GCM_SHA256";
  auto result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->tls.negotiated, "TLSv1.3 TLS_AES_128_GCM_SHA256");
  options.tls.version = "1.2";
  options.tls.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
  result = loadgen::Run(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->tls.negotiated, "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256");
}

TEST_F(LoadgenTlsTest, BadTlsOptionsAreRejectedBeforeAnyConnect) {
  loadgen::Options options = TlsRun(1, 1);
  options.tls.ca_file = "/nonexistent/ca.crt";
  auto result = loadgen::Run(options);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("/nonexistent/ca.crt"), std::string::npos);
  options = TlsRun(1, 1);
  options.tls.version = "1.1";
  EXPECT_FALSE(loadgen::Run(options).ok());
  options = TlsRun(1, 1);
  options.tls.enabled = false;
  EXPECT_FALSE(loadgen::Run(options).ok()) << "--tls_ca without --tls";
}

TEST_F(LoadgenTlsTest, BinaryReportsHandshakesAndWarnsWithoutACa) {
  CommandResult run = RunCommand(
      {"tools/loadgen/loadgen", "--target=" + nginx_->address(), "--protocol=http", "--tls",
       "--connections=2", "--requests=100", "--reconnect_every=1", "--tls_resume",
       "--assert=tls_handshake==0,errors==0"},
      seconds(60));
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.err.find("loadgen: warning: --tls without --tls_ca: the server certificate is "
                         "not verified\n"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.out.find("certificate not checked; 100 handshakes (98 resumed)"), std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("handshakes/s in the window"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("handshake latency: p50 "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("tls_handshake==0: ok (0)"), std::string::npos) << run.out;

  run = RunCommand({"tools/loadgen/loadgen", "--target=" + nginx_->address(), "--protocol=http",
                    "--tls", "--tls_ca=" + certificates_->ca_certificate,
                    "--tls_server_name=wrong.example", "--connections=1", "--requests=5"},
                   seconds(60));
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_NE(run.out.find("tls_handshake 10)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("first handshake error: TLS handshake with " + nginx_->address() +
                         ": certificate verify failed (hostname mismatch)"),
            std::string::npos)
      << run.out;
}

}  // namespace
}  // namespace shoal::testing
