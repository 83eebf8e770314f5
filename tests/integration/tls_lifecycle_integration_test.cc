// A TLS connection's life beyond the handshake: a client that does not read holds the server's
// queued output near the high watermark (plaintext queued counts until OpenSSL wrote its record);
// a graceful drain answers the request in flight, then sends close_notify; a certificate reload
// serves new connections the new certificate while an established one keeps working, and a bad
// file on reload keeps the current certificate and names the file.
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/integration/integration_bounds.h"
#include "tests/integration/tls_test_server.h"
#include "tests/support/echo_wire.h"
#include "tests/support/random_bytes.h"

namespace shoal::testing {
namespace {

TEST(TlsLifecycle, ASlowReaderHoldsQueuedOutputNearTheHighWatermark) {
  TestServerOptions options = SmallWatermarkOptions();
  auto started = StartTlsServer(options);
  ASSERT_TRUE(started.ok()) << started.status();
  TlsTestServer& s = *started;
  TlsClientOptions slow = s.client;
  slow.receive_buffer = 32 << 10;
  auto client = TlsClient::Connect(s.server->port(), slow);
  ASSERT_TRUE(client.ok()) << client.status();

  std::string sent;
  for (int i = 0; i < 32; ++i) sent += EncodeFrame(RandomBytes(64 << 10, i));
  ASSERT_TRUE((*client)->Write(sent, kTestDeadline).ok());
  const core::WorkerStats& worker = s.server->worker_stats(0);
  ASSERT_TRUE(WaitFor([&] { return worker.backpressure_pauses.value() > 0; }, kTestDeadline));
  ASSERT_TRUE(s.server->Barrier());
  // One TLS record (16 KiB) may land after the pause decision.
  EXPECT_LE(worker.output_queue_bytes.value(), options.settings.high_watermark + (16 << 10));

  auto echoed = (*client)->ReadExactly(sent.size(), kTestDeadline);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_TRUE(*echoed == sent);
  EXPECT_GT(worker.backpressure_resumes.value(), 0u);
}

TEST(TlsLifecycle, DrainAnswersTheRequestInFlightThenSendsCloseNotify) {
  auto started = StartTlsServer(TestServerOptions{});
  ASSERT_TRUE(started.ok()) << started.status();
  TlsTestServer& s = *started;
  auto client = s.Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  const std::string frame = EncodeFrame(std::string(1000, 'd'));
  ASSERT_TRUE((*client)->Write(frame.substr(0, 500)).ok());
  ASSERT_TRUE(WaitFor([&] { return s.server->bytes_received() >= 500; }, kTestDeadline));

  std::atomic<bool> drained{false};
  s.server->server().Drain(core::MonotonicNowNs() + 20'000'000'000, [&] { drained = true; });
  ASSERT_TRUE((*client)->Write(frame.substr(500)).ok());
  TlsClient::End end = (*client)->ReadToEnd(kTestDeadline);
  EXPECT_TRUE(end.data == frame) << end.data.size();
  EXPECT_TRUE(end.how.ok()) << end.how;  // close_notify, not a bare FIN
  client->reset();  // our FIN ends the server's linger
  ASSERT_TRUE(WaitFor([&] { return drained.load(); }, kTestDeadline));
  EXPECT_EQ(s.server->closed(core::CloseReason::kShutdown), 1u) << s.server->StatsSummary();
}

void CopyFile(const std::string& from, const std::string& to) {
  std::ifstream in(from);
  std::ofstream out(to, std::ios::trunc);
  out << in.rdbuf();
}

TEST(TlsLifecycle, ReloadServesTheNewCertificateToNewConnectionsOnly) {
  auto first = MakeTestCertificates("first", "localhost");
  auto second = MakeTestCertificates("second", "localhost");
  ASSERT_TRUE(first.ok() && second.ok());
  const std::string dir = std::string(getenv("TEST_TMPDIR"));
  const std::string certificate = dir + "/live.crt";
  const std::string key = dir + "/live.key";
  CopyFile(first->certificate_chain, certificate);
  CopyFile(first->private_key, key);
  auto holder = core::TlsContextHolder::Create({certificate, key, core::TlsVersion::k1_2, {}});
  ASSERT_TRUE(holder.ok()) << holder.status();
  TestServerOptions options;
  options.workers = 2;
  options.tls = *holder;
  auto server = TestServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  TlsClientOptions trusting;
  trusting.ca_file = first->ca_certificate;

  auto before = TlsClient::Connect((*server)->port(), trusting);
  ASSERT_TRUE(before.ok()) << before.status();
  const std::string first_serial = (*before)->peer_serial();

  CopyFile(second->certificate_chain, certificate);
  CopyFile(second->private_key, key);
  ASSERT_TRUE((*holder)->Reload().ok());
  for (int i = 0; i < 4; ++i) {  // whichever worker accepts
    auto after = TlsClient::Connect((*server)->port(), trusting);
    ASSERT_TRUE(after.ok()) << after.status();
    EXPECT_NE((*after)->peer_serial(), first_serial);
  }
  ASSERT_TRUE((*before)->Write(EncodeFrame("old")).ok());
  EXPECT_TRUE((*before)->ReadExactly(7, kTestDeadline).ok());

  std::ofstream(key, std::ios::trunc) << "not a key";
  absl::Status bad = (*holder)->Reload();
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find(key), std::string::npos) << bad;
  auto still = TlsClient::Connect((*server)->port(), trusting);
  ASSERT_TRUE(still.ok()) << still.status();
  EXPECT_NE((*still)->peer_serial(), first_serial);
}

}  // namespace
}  // namespace shoal::testing
