// listeners[].proxy_protocol and listeners[].trusted_proxies: parsed, emitted, validated with the
// position and key of the bad item, and mapped into the core listener options.
#include <string>

#include "gtest/gtest.h"
#include "server/application.h"
#include "server/config.h"

namespace shoal::server {
namespace {

constexpr char kListener[] = "listeners:\n  - name: web\n    address: 127.0.0.1:8080\n";

absl::StatusOr<Config> Parse(const std::string& extra) {
  return ParseConfig(std::string(kListener) + extra, "t.yaml");
}

TEST(ProxyKeysTest, DefaultsAreOffAndAnySource) {
  auto config = Parse("");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listeners[0].proxy_protocol, ProxyProtocol::kOff);
  EXPECT_TRUE(config->listeners[0].trusted_proxies.empty());
}

TEST(ProxyKeysTest, ParsedEmittedAndMapped) {
  auto config = Parse(
      "    proxy_protocol: v2\n"
      "    trusted_proxies: [10.0.0.0/8, \"::1\"]\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listeners[0].proxy_protocol, ProxyProtocol::kV2);
  EXPECT_EQ(config->listeners[0].trusted_proxies,
            (std::vector<std::string>{"10.0.0.0/8", "::1"}));

  std::string yaml = ConfigToYaml(*config);
  EXPECT_NE(yaml.find("proxy_protocol: v2"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("trusted_proxies: [\"10.0.0.0/8\", \"::1\"]"), std::string::npos) << yaml;
  auto again = ParseConfig(yaml, "emitted.yaml");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *config);

  auto options = ServerOptionsFrom(*config);
  ASSERT_TRUE(options.ok()) << options.status();
  const core::ServerListenerOptions& listener = options->listeners[0];
  EXPECT_EQ(listener.proxy_protocol, core::ProxyProtocolMode::kV2);
  ASSERT_EQ(listener.trusted_proxies.size(), 2u);
  EXPECT_EQ(listener.trusted_proxies[0].ToString(), "10.0.0.0/8");
  EXPECT_EQ(listener.trusted_proxies[1].ToString(), "::1/128");
}

TEST(ProxyKeysTest, BadValuesPointAtTheItem) {
  auto bad_range = Parse(
      "    trusted_proxies:\n"
      "      - 10.0.0.0/8\n"
      "      - 10.0.0.0/33\n");
  ASSERT_FALSE(bad_range.ok());
  EXPECT_EQ(bad_range.status().message(),
            "t.yaml:6:9: listeners[0].trusted_proxies[1]: '10.0.0.0/33' is not an address range: "
            "the prefix length must be 0..32");

  auto not_a_list = Parse("    trusted_proxies: 10.0.0.0/8\n");
  ASSERT_FALSE(not_a_list.ok());
  EXPECT_NE(std::string(not_a_list.status().message())
                .find("t.yaml:4:22: listeners[0].trusted_proxies: expected a list of strings"),
            std::string::npos)
      << not_a_list.status();

  auto bad_mode = Parse("    proxy_protocol: v3\n");
  ASSERT_FALSE(bad_mode.ok());
  EXPECT_NE(std::string(bad_mode.status().message()).find("t.yaml:4:21: listeners[0].proxy_protocol"),
            std::string::npos)
      << bad_mode.status();
}

}  // namespace
}  // namespace shoal::server
