// Every registered protocol is built through the registry from Config::Default() and answers its
// example request over a real socket; and the registry itself: sorted names, lookups.
#include "server/protocols/registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tests/support/assert_ok.h"
#include "tests/support/client_socket.h"
#include "tests/support/deadline.h"
#include "tests/support/test_server.h"

namespace shoal::testing {
namespace {

TEST(RegistryTest, KnowsShoalsProtocolsSortedByName) {
  std::span<const std::string_view> names = protocols::Names();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  for (std::string_view name : {"echo", "http", "resp"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
    ASSERT_NE(protocols::Find(name), nullptr) << name;
    EXPECT_EQ(protocols::Find(name)->name, name);
  }
  EXPECT_EQ(protocols::Find("ech"), nullptr);
  EXPECT_EQ(protocols::All().size(), names.size());
}

TEST(RegistryTest, EveryProtocolServesItsExampleRequest) {
  ASSERT_FALSE(protocols::All().empty());
  for (const protocols::Registration& registration : protocols::All()) {
    SCOPED_TRACE(std::string(registration.name));
    ASSERT_FALSE(registration.example_request.empty());
    TestServerOptions options;
    options.protocol = std::string(registration.name);
    ASSERT_OK_AND_ASSIGN(auto server, TestServer::Start(options));
    Deadline deadline = seconds(10);
    ASSERT_OK_AND_ASSIGN(auto client, Connect(server->port(), deadline));
    ASSERT_TRUE(SendAll(client.get(), registration.example_request, deadline).ok());
    ASSERT_OK_AND_ASSIGN(std::string reply, ReadExactly(client.get(),
                                                        registration.example_reply_prefix.size(),
                                                        deadline));
    EXPECT_EQ(reply, registration.example_reply_prefix);
    EXPECT_TRUE(server->Barrier());
    EXPECT_EQ(server->requests(), 1u);
  }
}

TEST(RegistryTest, TestServerRejectsAnUnknownName) {
  TestServerOptions options;
  options.protocol = "gopher";
  EXPECT_FALSE(TestServer::Start(options).ok());
}

}  // namespace
}  // namespace shoal::testing
