// Reloaded HTTP limits reach keep-alive connections from their next request. Over the real binary:
// a keep-alive connection sends a request with a 4 KiB head (accepted under max_header_bytes
// 16KiB); SIGHUP lowers max_header_bytes to 1KiB; the same request on the same connection then
// gets 431.
//
// "SIGHUP: applied" is logged once the new limits are posted to the (single) worker, which may
// not have run them yet. A round trip on another connection orders things: the worker answers it
// in some loop turn and runs its posted tasks at the end of that turn.
#include <signal.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/support/deadline.h"
#include "tests/support/http_client.h"
#include "tests/support/shoal_process.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

std::string HttpConfig(const std::string& max_header_bytes) {
  return ServerConfig("http", 1, "limits:\n  max_header_bytes: " + max_header_bytes + "\n");
}

const std::string kFourKiBHead = "GET /plaintext HTTP/1.1\r\nHost: test\r\nX-Pad: " +
                                 std::string(4096, 'p') + "\r\n\r\n";

TEST(HttpReloadE2e, LowerHeaderLimitAppliesToTheNextRequestOnAKeepAliveConnection) {
  const std::string path = WriteTempFile("http_reload.yaml", HttpConfig("16KiB"));
  Subprocess shoal({ShoalBinaryPath(), "--config=" + path});
  ASSERT_TRUE(shoal.started());
  auto listening = shoal.WaitForStderrLine("listening: http", seconds(20));
  ASSERT_TRUE(listening.has_value()) << shoal.err();
  const auto port = static_cast<uint16_t>(PortFromListeningLine(*listening));

  RawClient keep_alive(port, seconds(5));
  ASSERT_TRUE(keep_alive.connected());
  ASSERT_TRUE(keep_alive.Send(kFourKiBHead, seconds(5)));
  auto before = keep_alive.ReadResponse(false, seconds(5));
  ASSERT_TRUE(before.has_value()) << keep_alive.last_error();
  EXPECT_EQ(before->status, 200);

  const size_t log_mark = shoal.err().size();
  WriteTempFile("http_reload.yaml", HttpConfig("1KiB"));
  shoal.Signal(SIGHUP);
  ASSERT_TRUE(shoal.WaitForStderrLine("SIGHUP: applied", seconds(10), log_mark).has_value())
      << shoal.err();
  auto ordering = HttpGet(port, "/plaintext", seconds(5));
  ASSERT_TRUE(ordering.has_value());
  EXPECT_EQ(ordering->status, 200);

  ASSERT_TRUE(keep_alive.Send(kFourKiBHead, seconds(5)));
  auto after = keep_alive.ReadResponse(false, seconds(5));
  ASSERT_TRUE(after.has_value()) << keep_alive.last_error();
  EXPECT_EQ(after->status, 431);
  keep_alive.Close();

  shoal.Signal(SIGTERM);
  EXPECT_EQ(shoal.Wait(seconds(20)), 0) << shoal.err();
}

}  // namespace
}  // namespace shoal::testing
