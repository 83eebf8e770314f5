#include "tests/tools/loadgen/https_nginx.h"

#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"

namespace shoal::testing {

namespace {

constexpr char kConfig[] = R"(daemon off;
master_process on;
worker_processes 1;
pid DIR/nginx.pid;
error_log DIR/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path DIR/body;
  proxy_temp_path DIR/proxy;
  fastcgi_temp_path DIR/fastcgi;
  uwsgi_temp_path DIR/uwsgi;
  scgi_temp_path DIR/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:PORT ssl;
    ssl_certificate CHAIN;
    ssl_certificate_key KEY;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets on;
    location /plaintext { return 200 "Hello, World!"; }
  }
}
)";

std::string NginxPath() {
  if (auto found = FindOnPath("nginx")) return *found;
  return "/usr/sbin/nginx";
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpsNginx>> HttpsNginx::Start(const std::string& certificate_chain,
                                                              const std::string& private_key) {
  const char* tmpdir = std::getenv("TEST_TMPDIR");
  static int instance = 0;
  const std::string dir = absl::StrCat(tmpdir != nullptr ? tmpdir : "/tmp", "/nginx-", ++instance);
  mkdir(dir.c_str(), 0755);
  std::string last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {  // the port may be taken between pick and bind
    const int port = PickFreePort();
    if (port <= 0) return absl::InternalError("no free loopback port");
    const std::string config = absl::StrReplaceAll(
        kConfig, {{"DIR", dir}, {"PORT", std::to_string(port)}, {"CHAIN", certificate_chain},
                  {"KEY", private_key}});
    const std::string config_path = WriteTempFile(absl::StrCat("nginx-", instance, ".conf"), config);
    auto process = std::make_unique<Subprocess>(std::vector<std::string>{
        NginxPath(), "-p", dir, "-e", dir + "/error.log", "-c", config_path});
    if (!process->started()) return absl::InternalError("cannot start " + NginxPath());
    const Deadline deadline = seconds(10);
    bool accepting = false;
    while (!accepting && !deadline.expired()) {
      if (process->Wait(milliseconds(20)).has_value() || process->exited()) break;
      accepting = Connect(static_cast<uint16_t>(port), milliseconds(200)).ok();
    }
    if (accepting) return std::unique_ptr<HttpsNginx>(new HttpsNginx(std::move(process), port));
    last_error = process->err() + ReadFile(dir + "/error.log");
  }
  return absl::InternalError("nginx did not start: " + last_error);
}

HttpsNginx::~HttpsNginx() {
  process_->Signal(SIGTERM);
  process_->Wait(seconds(10));
}

}  // namespace shoal::testing
