// Certificate reload under load: loadgen keeps opening verified TLS connections (a full handshake
// every few requests) while the certificate and key files are replaced and SIGHUP is sent again
// and again; no request and no handshake may fail, and afterwards new connections get the
// certificate now on disk.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>

#include <chrono>
#include <string>

#include "absl/strings/str_replace.h"
#include "tests/support/deadline.h"
#include "tests/support/exposition.h"
#include "tests/support/http_client.h"
#include "tests/support/subprocess.h"
#include "tests/support/tls_certs.h"

namespace shoal::testing {
namespace {

constexpr char kConfig[] = R"(workers: 2
listeners:
  - name: web
    address: 127.0.0.1:0
    protocol: http
    tls:
      certificate: LIVE.crt
      private_key: LIVE.key
admin:
  address: 127.0.0.1:0
)";

// Puts `from`'s certificate chain and key at the live paths (TEST_TMPDIR/live.crt, live.key),
// each by an atomic rename; returns the live path without its extension.
std::string Install(const TestCertificates& from) {
  std::string live;
  for (auto [source, name] : {std::pair{from.certificate_chain, std::string("live.crt")},
                              std::pair{from.private_key, std::string("live.key")}}) {
    const std::string staged = WriteTempFile(name + ".staged", ReadFile(source));
    const std::string target = staged.substr(0, staged.size() - std::string(".staged").size());
    EXPECT_EQ(rename(staged.c_str(), target.c_str()), 0) << target;
    live = target.substr(0, target.size() - 4);
  }
  return live;
}

// The serial of the certificate a new connection to `port` is given, as `openssl x509` prints it.
std::string ServedSerial(int port, const std::string& ca) {
  CommandResult result =
      RunCommand({"/bin/bash", "-c",
                  "openssl s_client -connect 127.0.0.1:" + std::to_string(port) + " -CAfile " + ca +
                      " -verify_return_error </dev/null 2>/dev/null | openssl x509 -noout "
                      "-serial"},
                 Deadline::In(std::chrono::seconds(20)));
  return result.out;
}

std::string FileSerial(const std::string& certificate) {
  return RunCommand({"/usr/bin/openssl", "x509", "-in", certificate, "-noout", "-serial"},
                    Deadline::In(std::chrono::seconds(20)))
      .out;
}

TEST(TlsReloadE2e, ReloadsUnderLoadFailNoRequestAndNewConnectionsGetTheNewCertificate) {
  auto one = MakeTestCertificates("one");
  ASSERT_TRUE(one.ok()) << one.status();
  auto two = MakeTestCertificates("two");
  ASSERT_TRUE(two.ok()) << two.status();
  ASSERT_NE(FileSerial(one->certificate), FileSerial(two->certificate));
  const std::string live = Install(*one);

  Subprocess server({ShoalBinaryPath(),
                     "--config=" + WriteTempFile("tls_reload.yaml",
                                                 absl::StrReplaceAll(kConfig, {{"LIVE", live}}))});
  auto listening =
      server.WaitForStderrLine("listening: web (", Deadline::In(std::chrono::seconds(20)));
  ASSERT_TRUE(listening.has_value()) << server.err();
  const int port = PortFromListeningLine(*listening);
  ASSERT_GT(port, 0);
  auto admin =
      server.WaitForStderrLine("admin: listening on", Deadline::In(std::chrono::seconds(20)));
  ASSERT_TRUE(admin.has_value()) << server.err();
  const int admin_port = PortFromListeningLine(*admin);

  const char* srcdir = std::getenv("TEST_SRCDIR");
  Subprocess load({std::string(srcdir != nullptr ? srcdir : ".") + "/shoal/tools/loadgen/loadgen",
                   "--target=127.0.0.1:" + std::to_string(port), "--protocol=http", "--tls",
                   "--tls_ca=" + one->ca_certificate, "--connections=8", "--threads=1",
                   "--rate=1500", "--duration=4s", "--warmup=0s", "--reconnect_every=10",
                   "--verify", "--assert=errors==0"});
  ASSERT_TRUE(load.started());

  size_t from = 0;
  // Each reload waits for 20 more completed handshakes, so reloads and handshakes interleave.
  double handshakes = 0;
  for (int reload = 0; reload < 8; ++reload) {
    double now = handshakes;
    const bool progressed = WaitFor(
        [&] {
          auto metrics = HttpGet(admin_port, "/metrics");
          if (metrics) {
            now = ParseExposition(metrics->body)
                      .Sum("shoal_tls_handshakes_total", {{"result", "ok"}});
          }
          return now >= handshakes + 20;
        },
        Deadline::In(std::chrono::seconds(10)));
    ASSERT_TRUE(progressed) << "reload " << reload << ": handshakes stalled at " << now;
    handshakes = now;
    Install(reload % 2 == 0 ? *two : *one);
    server.Signal(SIGHUP);
    auto line = server.WaitForStderrLine("SIGHUP: reloaded TLS certificate",
                                         Deadline::In(std::chrono::seconds(10)), from);
    ASSERT_TRUE(line.has_value()) << "reload " << reload << ":\n" << server.err();
    from = server.err().find(*line, from) + line->size();
  }
  auto status = load.Wait(Deadline::In(std::chrono::seconds(30)));
  ASSERT_TRUE(status.has_value()) << load.out() << load.err();
  EXPECT_EQ(*status, 0) << load.out() << load.err();
  EXPECT_NE(load.out().find("Verified: "), std::string::npos) << load.out();
  EXPECT_EQ(server.err().find("TLS files rejected"), std::string::npos) << server.err();

  // The last reload installed `one` (reload 7): a new connection is given it.
  EXPECT_EQ(ServedSerial(port, one->ca_certificate), FileSerial(one->certificate));
  Install(*two);
  server.Signal(SIGHUP);
  ASSERT_TRUE(server
                  .WaitForStderrLine("SIGHUP: reloaded TLS certificate",
                                     Deadline::In(std::chrono::seconds(10)), from)
                  .has_value());
  EXPECT_EQ(ServedSerial(port, one->ca_certificate), FileSerial(two->certificate));

  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(Deadline::In(std::chrono::seconds(20))), 0) << server.err();
}

}  // namespace
}  // namespace shoal::testing
