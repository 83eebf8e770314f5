// Set-up shared by the tests that run loadgen in-process against a TestServer: the server (or
// nullptr, the failure recorded) and the options of a short, light run. Test thread only.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>

#include "tests/support/test_server.h"
#include "tools/loadgen/loadgen.h"

namespace shoal::testing {

// A TestServer speaking `protocol`, or made by `factory` when one is given.
inline std::unique_ptr<TestServer> StartLoadgenTarget(std::string_view protocol = "echo",
                                                      core::ProtocolFactory factory = nullptr) {
  TestServerOptions options;
  options.protocol = std::string(protocol);
  options.factory = std::move(factory);
  auto server = TestServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

// The load of a short run; pipeline 4 and a 5 s response timeout come with it.
struct ShortRun {
  int connections = 0;
  int threads = 0;
  size_t size = 0;
  bool verify = false;
};

inline loadgen::Options ShortRunOptions(const std::string& target, const ShortRun& run) {
  loadgen::Options options;
  options.targets = {target};
  options.connections = run.connections;
  options.threads = run.threads;
  options.pipeline = 4;
  options.size = run.size;
  options.verify = run.verify;
  options.timeout_ns = 5'000'000'000;
  return options;
}

}  // namespace shoal::testing
