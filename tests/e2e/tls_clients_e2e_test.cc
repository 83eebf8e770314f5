// Real TLS clients against the shoal binary, every protocol over TLS (listeners[].tls): curl
// (keep-alive), openssl s_client (echo, ALPN; TLS 1.2 refused by a min_version 1.3 listener),
// Python's ssl module (RESP), redis-cli --tls, h2load over https, tools/loadgen --tls --verify;
// a client without the CA fails verification; the handshakes are counted in /metrics.
// Every client comes with tools/install-deps.sh: a missing one (or a redis-cli built without TLS)
// fails the test.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "tests/support/deadline.h"
#include "tests/support/exposition.h"
#include "tests/support/http_client.h"
#include "tests/support/subprocess.h"
#include "tests/support/tls_certs.h"

namespace shoal::testing {
namespace {

// Four TLS listeners: http with ALPN http/1.1, echo with ALPN shoal-echo, resp without ALPN, and
// http refusing anything below TLS 1.3.
constexpr char kConfig[] = R"(workers: 2
listeners:
  - name: web
    address: 127.0.0.1:0
    protocol: http
    tls:
      certificate: CHAIN
      private_key: KEY
      min_version: "1.2"
      alpn: [http/1.1]
  - name: echo
    address: 127.0.0.1:0
    protocol: echo
    tls:
      certificate: CHAIN
      private_key: KEY
      min_version: "1.2"
      alpn: [shoal-echo]
  - name: cache
    address: 127.0.0.1:0
    protocol: resp
    tls:
      certificate: CHAIN
      private_key: KEY
      min_version: "1.2"
  - name: strict
    address: 127.0.0.1:0
    protocol: http
    tls:
      certificate: CHAIN
      private_key: KEY
      min_version: "1.3"
admin:
  address: 127.0.0.1:0
)";

// s_client to the echo listener: sends one framed payload, reads stdout until the echoed frame
// came back (then closes stdin, so s_client ends), prints everything s_client printed.
constexpr char kSClientEcho[] = R"(
import os, select, subprocess, sys, time
port, ca = sys.argv[1], sys.argv[2]
frame = b"\x00\x00\x00\x0bhello shoal"
client = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:" + port, "-CAfile", ca,
                           "-verify_return_error", "-alpn", "shoal-echo"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
client.stdin.write(frame)
client.stdin.flush()
out = b""
deadline = time.monotonic() + 20
while frame not in out and time.monotonic() < deadline:
    if not select.select([client.stdout], [], [], deadline - time.monotonic())[0]:
        break
    chunk = os.read(client.stdout.fileno(), 65536)
    if not chunk:
        break
    out += chunk
client.stdin.close()
client.wait(timeout=20)
sys.stdout.write(out.decode("latin-1"))
sys.exit(0 if frame in out else 1)
)";

// Python's ssl module (default context: certificate and IP verified) to the resp listener:
// PING, ECHO, the connection's name set and read back (shoal keeps no keys: CLIENT SETNAME /
// GETNAME is its state round trip), then three PINGs in one write.
constexpr char kPythonResp[] = R"(
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
context = ssl.create_default_context(cafile=ca)
with socket.create_connection(("127.0.0.1", port), timeout=20) as raw:
    with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        def call(command, expected):
            tls.sendall(command)
            got = b""
            while len(got) < len(expected):
                chunk = tls.recv(4096)
                if not chunk:
                    break
                got += chunk
            if got != expected:
                sys.exit("sent %r: got %r, expected %r" % (command, got, expected))
        call(b"*1\r\n$4\r\nPING\r\n", b"+PONG\r\n")
        call(b"*2\r\n$4\r\nECHO\r\n$8\r\nover-tls\r\n", b"$8\r\nover-tls\r\n")
        call(b"*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$6\r\npython\r\n", b"+OK\r\n")
        call(b"*2\r\n$6\r\nCLIENT\r\n$7\r\nGETNAME\r\n", b"$6\r\npython\r\n")
        call(b"*1\r\n$4\r\nPING\r\n" * 3, b"+PONG\r\n" * 3)
        print(tls.version(), tls.cipher()[0])
)";

class TlsClientsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto certificates = MakeTestCertificates();
    if (!certificates.ok()) {
      setup_error_ = new std::string(certificates.status().ToString());
      return;
    }
    ca_ = new std::string(certificates->ca_certificate);
    const std::string config =
        absl::StrReplaceAll(kConfig, {{"CHAIN", certificates->certificate_chain},
                                      {"KEY", certificates->private_key}});
    server_ = new Subprocess(
        {ShoalBinaryPath(), "--config=" + WriteTempFile("tls_clients.yaml", config)});
    ports_ = new std::map<std::string, int>();
    for (const char* name : {"web", "echo", "cache", "strict"}) {
      if (auto line = server_->WaitForStderrLine(std::string("listening: ") + name + " (",
                                                 seconds(20))) {
        (*ports_)[name] = PortFromListeningLine(*line);
      }
    }
    if (auto line = server_->WaitForStderrLine("admin: listening on", seconds(20))) {
      (*ports_)["admin"] = PortFromListeningLine(*line);
    }
  }

  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      server_->Signal(SIGTERM);
      server_->Wait(seconds(15));
    }
    delete server_;
    delete ports_;
    delete ca_;
    delete setup_error_;
  }

  void SetUp() override {
    ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
    for (const char* name : {"web", "echo", "cache", "strict", "admin"}) {
      ASSERT_GT((*ports_)[name], 0) << name << " port missing:\n" << server_->err();
    }
  }

  static std::string Port(const std::string& name) { return std::to_string((*ports_)[name]); }
  static std::string Url(const std::string& listener, const std::string& path) {
    return "https://127.0.0.1:" + Port(listener) + path;
  }

  // Runs argv (argv[0] looked up on PATH, or in /usr/sbin and /sbin); its exit status, stdout and
  // stderr in *output. A client that is not installed fails the test.
  static int Run(std::vector<std::string> argv, std::string* output,
                 std::string_view stdin_text = {}) {
    if (argv[0].front() != '/') {
      auto path = FindOnPath(argv[0]);
      EXPECT_TRUE(path.has_value()) << argv[0] << " is not installed (tools/install-deps.sh)";
      if (!path) return -1;
      argv[0] = *path;
    }
    CommandResult result = RunCommand(argv, seconds(60), stdin_text);
    *output = result.out + result.err;
    return result.exit_code.value_or(-1);
  }

  static Exposition Metrics() {
    auto response = HttpGet((*ports_)["admin"], "/metrics");
    EXPECT_TRUE(response.has_value());
    return ParseExposition(response ? response->body : "");
  }

  static Subprocess* server_;
  static std::map<std::string, int>* ports_;
  static std::string* ca_;
  static std::string* setup_error_;
};

Subprocess* TlsClientsTest::server_ = nullptr;
std::map<std::string, int>* TlsClientsTest::ports_ = nullptr;
std::string* TlsClientsTest::ca_ = nullptr;
std::string* TlsClientsTest::setup_error_ = nullptr;

TEST_F(TlsClientsTest, CurlKeepsOneVerifiedConnectionForSeveralRequests) {
  std::string out;
  const std::string url = Url("web", "/plaintext");
  ASSERT_EQ(Run({"curl", "--silent", "--show-error", "--http1.1", "--cacert", *ca_, url, url, url,
                 "--write-out", " connects=%{num_connects} status=%{http_code}\\n"},
                &out),
            0)
      << out;
  EXPECT_EQ(out,
            "Hello, World! connects=1 status=200\n"
            "Hello, World! connects=0 status=200\n"
            "Hello, World! connects=0 status=200\n");
}

TEST_F(TlsClientsTest, OpenSslSClientEchoesAFrameAndNegotiatesTheAlpnProtocol) {
  std::string out;
  EXPECT_EQ(Run({"python3", "-c", kSClientEcho, Port("echo"), *ca_}, &out), 0) << out;
  EXPECT_NE(out.find("ALPN protocol: shoal-echo"), std::string::npos) << out;
  EXPECT_NE(out.find("Verify return code: 0 (ok)"), std::string::npos) << out;
}

TEST_F(TlsClientsTest, PythonSslSpeaksRespOverTls) {
  std::string out;
  EXPECT_EQ(Run({"python3", "-c", kPythonResp, Port("cache"), *ca_}, &out), 0) << out;
  EXPECT_EQ(out.rfind("TLSv1.3 ", 0), 0u) << out;
}

TEST_F(TlsClientsTest, RedisCliSpeaksRespOverTls) {
  std::string help;
  Run({"redis-cli", "--help"}, &help);
  ASSERT_NE(help.find("--tls"), std::string::npos)
      << "this redis-cli was built without TLS (Debian's has --tls):\n" << help;
  // Commands on stdin: one connection runs them all.
  std::string out;
  EXPECT_EQ(Run({"redis-cli", "--tls", "--cacert", *ca_, "-h", "127.0.0.1", "-p", Port("cache")},
                &out, "PING\nECHO over-tls\nCLIENT SETNAME redis-cli\nCLIENT GETNAME\n"),
            0)
      << out;
  EXPECT_EQ(out, "PONG\nover-tls\nOK\nredis-cli\n");
}

TEST_F(TlsClientsTest, H2loadOverHttpsHasNoFailure) {
  std::string out;
  ASSERT_EQ(Run({"h2load", "--h1", "-n", "200", "-c", "4", Url("web", "/plaintext")}, &out), 0)
      << out;
  EXPECT_NE(out.find("requests: 200 total, 200 started, 200 done, 200 succeeded, 0 failed, "
                     "0 errored"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("status codes: 200 2xx"), std::string::npos) << out;
}

TEST_F(TlsClientsTest, MinVersion13RefusesATls12OnlyClient) {
  std::string out;
  const std::vector<std::string> s_client = {"openssl", "s_client", "-connect",
                                             "127.0.0.1:" + Port("strict"), "-CAfile", *ca_,
                                             "-verify_return_error"};
  auto with = [&s_client](const std::string& flag) {
    std::vector<std::string> argv = s_client;
    argv.push_back(flag);
    return argv;
  };
  EXPECT_NE(Run(with("-tls1_2"), &out), 0) << out;
  EXPECT_NE(out.find("alert protocol version"), std::string::npos) << out;
  ASSERT_EQ(Run(with("-tls1_3"), &out), 0) << out;  // the same listener, TLS 1.3: served
  EXPECT_NE(out.find("New, TLSv1.3, Cipher is "), std::string::npos) << out;
}

// Counts on the web listener: three verified handshakes (three curl runs), one failed (a curl
// without the CA: curl aborts the handshake, exit 60), and that failure's connection closed for
// tls_error.
TEST_F(TlsClientsTest, HandshakesAreCountedByResultAndAFailedOneClosesForTlsError) {
  auto count = [](const Exposition& metrics, const char* result) {
    return metrics.Sum("shoal_tls_handshakes_total", {{"listener", "web"}, {"result", result}});
  };
  auto tls_errors = [](const Exposition& metrics) {
    return metrics.Sum("shoal_connections_closed_total", {{"reason", "tls_error"}});
  };
  auto durations = [](const Exposition& metrics) {
    return metrics.Sum("shoal_tls_handshake_duration_seconds_count", {{"listener", "web"}});
  };
  const Exposition before = Metrics();
  std::string out;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Run({"curl", "--silent", "--cacert", *ca_, Url("web", "/plaintext")}, &out), 0);
  }
  EXPECT_EQ(Run({"curl", "--silent", Url("web", "/plaintext")}, &out), 60) << out;
  Exposition after;
  const bool counted = WaitFor(
      [&] {
        after = Metrics();
        return count(after, "ok") - count(before, "ok") >= 3 &&
               count(after, "failed") - count(before, "failed") >= 1 &&
               tls_errors(after) - tls_errors(before) >= 1;
      },
      seconds(10));
  EXPECT_TRUE(counted);
  EXPECT_EQ(count(after, "ok") - count(before, "ok"), 3);
  EXPECT_EQ(count(after, "failed") - count(before, "failed"), 1);
  EXPECT_EQ(tls_errors(after) - tls_errors(before), 1);
  EXPECT_GE(durations(after) - durations(before), 3);
  EXPECT_EQ(after.types["shoal_tls_handshake_duration_seconds"], "histogram");
}

TEST_F(TlsClientsTest, LoadgenVerifiesEchoAndHttpOverTlsWithoutAnError) {
  for (auto [listener, protocol, extra] :
       {std::tuple{"echo", "echo", "--pipeline=8"}, std::tuple{"web", "http", "--pipeline=8"},
        std::tuple{"web", "http", "--reconnect_every=1"}}) {
    SCOPED_TRACE(std::string(protocol) + " " + extra);
    std::string out;
    EXPECT_EQ(Run({"tools/loadgen/loadgen", "--target=127.0.0.1:" + Port(listener),
                   std::string("--protocol=") + protocol, "--tls", "--tls_ca=" + *ca_,
                   "--connections=4", "--threads=2", "--requests=2000", "--verify", extra,
                   "--assert=errors==0,requests==2000"},
                  &out),
              0)
        << out;
    EXPECT_NE(out.find("Verified: 2000 responses byte for byte\n"), std::string::npos) << out;
  }
}

}  // namespace
}  // namespace shoal::testing
