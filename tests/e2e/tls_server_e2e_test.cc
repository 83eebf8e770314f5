// TLS on the real binary, with the real clients: curl --cacert and openssl s_client fetch
// /plaintext over https; the handshake metrics count it; SIGHUP re-reads the certificate (new
// connections see the new one, a bad file keeps the current one and says why); the admin
// endpoint serves /metrics over TLS when admin.tls is set; a bad file at
// start exits non-zero naming the key and the path.
#include <signal.h>

#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/deadline.h"
#include "tests/support/shoal_process.h"
#include "tests/support/subprocess.h"
#include "tests/support/tls_certs.h"

namespace shoal::testing {
namespace {

// An https listener; the admin endpoint over TLS too when `admin_tls`.
std::string TlsHttpConfig(const std::string& certificate, const std::string& key,
                          bool admin_tls = false) {
  const std::string files = "certificate: " + certificate + ", private_key: " + key;
  return "workers: 1\nlisteners:\n  - name: web\n    address: 127.0.0.1:0\n    protocol: http\n"
         "    tls: {" + files + ", alpn: [http/1.1]}\nadmin:\n  address: 127.0.0.1:0\n" +
         (admin_tls ? "  tls: {" + files + ", min_version: \"1.3\"}\n" : "");
}

void CopyFile(const std::string& from, const std::string& to) {
  std::ifstream in(from);
  std::ofstream(to, std::ios::trunc) << in.rdbuf();
}

// The subject line openssl s_client prints for the server certificate, after a GET.
CommandResult SClientGet(int port, const std::string& ca) {
  return RunCommand({"/usr/bin/openssl", "s_client", "-connect",
                     "127.0.0.1:" + std::to_string(port), "-CAfile", ca, "-verify_return_error",
                     "-alpn", "http/1.1", "-quiet", "-verify_quiet"},
                    seconds(20),
                    "GET /plaintext HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
}

std::string SubjectSeen(int port, const std::string& ca) {
  CommandResult shown = RunCommand({"/usr/bin/openssl", "s_client", "-connect",
                                    "127.0.0.1:" + std::to_string(port), "-CAfile", ca},
                                   seconds(20), "");
  size_t at = shown.out.find("subject=");
  return at == std::string::npos ? shown.out + shown.err
                                 : shown.out.substr(at, shown.out.find('\n', at) - at);
}

TEST(TlsServerE2e, CurlAndSClientOverHttpsThenReloadOnSighup) {
  auto first = MakeTestCertificates("first", "localhost,127.0.0.1");
  auto second = MakeTestCertificates("second", "127.0.0.1,localhost");
  ASSERT_TRUE(first.ok() && second.ok());
  const std::string certificate = WriteTempFile("live.crt", "");
  const std::string key = WriteTempFile("live.key", "");
  CopyFile(first->certificate_chain, certificate);
  CopyFile(first->private_key, key);
  const std::string config = WriteTempFile("tls.yaml", TlsHttpConfig(certificate, key, true));
  Subprocess shoal({ShoalBinaryPath(), "--config=" + config});
  ASSERT_TRUE(shoal.started());
  ShoalPorts ports = WaitForPorts(shoal);
  ASSERT_TRUE(ports.started()) << shoal.err();

  const std::string url = "https://127.0.0.1:" + std::to_string(ports.listener) + "/plaintext";
  CommandResult curl =
      RunCommand({"/usr/bin/curl", "-sS", "--cacert", first->ca_certificate, url}, seconds(20));
  EXPECT_EQ(curl.exit_code, 0) << curl.err;
  EXPECT_EQ(curl.out, "Hello, World!");
  CommandResult s_client = SClientGet(ports.listener, first->ca_certificate);
  EXPECT_NE(s_client.out.find("Hello, World!"), std::string::npos) << s_client.out << s_client.err;
  EXPECT_EQ(SubjectSeen(ports.listener, first->ca_certificate), "subject=CN = localhost");

  CommandResult metrics =
      RunCommand({"/usr/bin/curl", "-sS", "--cacert", first->ca_certificate,
                  "https://127.0.0.1:" + std::to_string(ports.admin) + "/metrics"},
                 seconds(20));
  EXPECT_NE(metrics.out.find("shoal_tls_handshakes_total{worker=\"0\",listener=\"web\",result=\"ok\"}"),
            std::string::npos)
      << metrics.out;
  EXPECT_NE(metrics.out.find("shoal_tls_handshake_duration_seconds_count{listener=\"web\"}"),
            std::string::npos);
  EXPECT_NE(metrics.out.find("shoal_tls_negotiated_total{listener=\"web\",version=\"TLSv1.3\"}"),
            std::string::npos);

  CopyFile(second->certificate_chain, certificate);
  CopyFile(second->private_key, key);
  size_t mark = shoal.err().size();
  shoal.Signal(SIGHUP);
  ASSERT_TRUE(shoal.WaitForStderrLine("reloaded TLS certificate", seconds(10), mark)) << shoal.err();
  EXPECT_EQ(SubjectSeen(ports.listener, first->ca_certificate), "subject=CN = 127.0.0.1");

  std::ofstream(key, std::ios::trunc) << "not a key";
  mark = shoal.err().size();
  shoal.Signal(SIGHUP);
  auto rejected = shoal.WaitForStderrLine("TLS files rejected", seconds(10), mark);
  ASSERT_TRUE(rejected.has_value()) << shoal.err();
  EXPECT_NE(rejected->find(key), std::string::npos) << *rejected;
  EXPECT_EQ(SubjectSeen(ports.listener, first->ca_certificate), "subject=CN = 127.0.0.1");

  shoal.Signal(SIGTERM);
  EXPECT_EQ(shoal.Wait(seconds(20)), 0) << shoal.err();
}

TEST(TlsServerE2e, ABadFileAtStartExitsNamingTheKeyAndPath) {
  auto made = MakeTestCertificates();
  ASSERT_TRUE(made.ok());
  const std::string config =
      WriteTempFile("bad.yaml", TlsHttpConfig(made->certificate_chain, "/nonexistent/server.key"));
  Subprocess shoal({ShoalBinaryPath(), "--config=" + config});
  ASSERT_TRUE(shoal.started());
  std::optional<int> code = shoal.Wait(seconds(20));
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_NE(shoal.err().find("listeners[0].tls.private_key /nonexistent/server.key"),
            std::string::npos)
      << shoal.err();
}

}  // namespace
}  // namespace shoal::testing
