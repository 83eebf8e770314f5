// "No per-request heap allocation for requests within the limits", end to end: counts operator new
// calls made on the worker thread while a client pipelines GET, HEAD and POST /echo (Content-Length
// and chunked) requests over a real socket, after a warm-up.
#include <gtest/gtest.h>

#include <cstdlib>
#include <future>
#include <new>
#include <random>
#include <string>

#include "core/server.h"
#include "tests/support/allocation_counter.h"
#include "tests/support/deadline.h"
#include "tests/support/http_client.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

// `count` requests of every kind and the total size of the responses they get.
std::string Requests(int count, std::mt19937_64& random, size_t* response_count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    std::string body(random() % 4000, static_cast<char>('a' + i % 26));
    switch (i % 4) {
      case 0:
        out += "GET /plaintext HTTP/1.1\r\nHost: t\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n";
        break;
      case 1:
        out += "HEAD /plaintext?x=1 HTTP/1.1\r\nHost: t\r\n\r\n";
        break;
      case 2:
        out += "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n\r\n" + body;
        break;
      default: {
        char size[32];
        std::snprintf(size, sizeof(size), "%zx", body.size() / 2);
        std::string half = body.substr(0, body.size() / 2);
        out += "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
               std::string(size) + "\r\n" + half + "\r\n" + std::string(size) + "\r\n" + half +
               "\r\n0\r\n\r\n";
        break;
      }
    }
  }
  *response_count = static_cast<size_t>(count);
  return out;
}

void Exchange(RawClient& client, const std::string& requests, size_t responses) {
  ASSERT_TRUE(client.SendWhileReading(requests, Deadline::In(seconds(20)))) << client.last_error();
  for (size_t i = 0; i < responses; ++i) {
    // Every fourth request (i % 4 == 1) is a HEAD.
    auto response = client.ReadResponse(i % 4 == 1, Deadline::In(seconds(20)));
    ASSERT_TRUE(response.has_value()) << client.last_error();
    ASSERT_EQ(response->status, 200);
  }
}

TEST(HttpAllocationTest, SteadyStateRequestsDoNotAllocate) {
  TestServerOptions options;
  options.protocol = "http";
  options.backlog = 128;
  auto started = TestServer::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  core::Server& server = (*started)->server();

  const uint64_t at_start = WorkerAllocations(server);
  RawClient client((*started)->port(), Deadline::In(seconds(10)));
  ASSERT_TRUE(client.connected());
  std::mt19937_64 random(7);
  size_t responses = 0;
  // Warm-up: buffers, the chunk pool and the cached head reach their sizes.
  for (int round = 0; round < 3; ++round) {
    std::string warm = Requests(400, random, &responses);
    ASSERT_NO_FATAL_FAILURE(Exchange(client, warm, responses));
  }
  std::string measured = Requests(2000, random, &responses);
  uint64_t before = WorkerAllocations(server);
  ASSERT_GT(before, at_start) << "the counter must see the worker's allocations (accepting a "
                                 "connection allocates): is the counting operator new linked?";
  ASSERT_NO_FATAL_FAILURE(Exchange(client, measured, responses));
  uint64_t after = WorkerAllocations(server);
  EXPECT_LT(after - before, 20u) << "allocations on the worker thread for " << responses
                                 << " requests";
}

}  // namespace
}  // namespace shoal::testing
