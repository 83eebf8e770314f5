// nginx serving HTTPS on a loopback port, for loadgen's TLS tests: `GET /plaintext` answers
// `Hello, World!` (what loadgen's http codec expects), TLS 1.2 and 1.3, session tickets on. The
// config is generated in TEST_TMPDIR; nginx is a child process (stopped by the destructor).
// nginx comes with tools/install-deps.sh: its absence is a failure, not a skip.
//
// Threading: test thread.
#ifndef SHOAL_TESTS_TOOLS_LOADGEN_HTTPS_NGINX_H_
#define SHOAL_TESTS_TOOLS_LOADGEN_HTTPS_NGINX_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {

class HttpsNginx {
 public:
  // nginx with `certificate_chain` and `private_key` (PEM files), accepting on 127.0.0.1.
  static absl::StatusOr<std::unique_ptr<HttpsNginx>> Start(const std::string& certificate_chain,
                                                           const std::string& private_key);
  ~HttpsNginx();

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  HttpsNginx(std::unique_ptr<Subprocess> process, int port)
      : process_(std::move(process)), port_(port) {}

  std::unique_ptr<Subprocess> process_;
  int port_;
};

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_TOOLS_LOADGEN_HTTPS_NGINX_H_
