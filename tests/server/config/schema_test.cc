// The schema table: defaults, the live/restart split of a reload, and that every row reaches its
// own member.
#include "server/config/schema.h"

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/config/config.h"

namespace shoal::server {
namespace {

using ::testing::ElementsAre;

// Every key different from its default.
Config Changed() {
  absl::StatusOr<Config> config = ParseConfig(R"yaml(
workers: 3
cpu_affinity: true
listeners:
  - {name: web, address: '127.0.0.1:8080', protocol: http, backlog: 7, reuseport: false}
limits: {max_connections: 9, max_frame_bytes: 2MiB, max_header_bytes: 1KiB}
timeouts: {idle: 1s, read: 2s, write: 3s, drain: 4s, tick: 5ms}
backpressure: {high_watermark: 2MiB, low_watermark: 1KiB, worker_budget: 1GiB}
socket: {tcp_nodelay: false, keepalive: false, rcvbuf: 4KiB, sndbuf: 8KiB}
admin:
  address: '127.0.0.1:9200'
  tls: {certificate: /c.crt, private_key: /c.key, min_version: '1.3', alpn: [h2]}
logging: {level: debug, format: json}
)yaml",
                                              "changed.yaml");
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : Config();
}

size_t CountKeys(schema::Reload reload) {
  size_t n = 0;
  for (const auto& key : schema::ConfigKeys()) n += key.reload == reload ? 1 : 0;
  return n;
}

TEST(SchemaTest, PathsAreUniqueAndFindable) {
  std::set<std::string_view> paths;
  for (const auto& key : schema::ConfigKeys()) {
    EXPECT_TRUE(paths.insert(key.path).second) << key.path;
    EXPECT_EQ(schema::FindConfigKey(key.path), &key);
    EXPECT_FALSE(key.doc.empty()) << key.path;
  }
  EXPECT_EQ(schema::FindConfigKey("timeouts"), nullptr);
  EXPECT_EQ(schema::FindConfigKey("nope"), nullptr);
}

TEST(SchemaTest, DefaultIsValidAndBuiltFromTheTable) {
  EXPECT_TRUE(ValidateConfig(Config::Default()).ok()) << ValidateConfig(Config::Default());
  ListenerConfig listener = schema::DefaultListener();
  EXPECT_EQ(listener, (ListenerConfig{"", "", "echo", 4096, true}));
  EXPECT_THAT(schema::DefaultListeners(),
              ElementsAre(ListenerConfig{"echo", "0.0.0.0:7000", "echo", 4096, true}));
}

TEST(SchemaTest, EveryRowReachesItsOwnMember) {
  const Config base = Config::Default();
  const Config changed = Changed();
  // Every restart-only row sees its change...
  EXPECT_EQ(schema::RestartKeysChanged(base, changed).size(), CountKeys(schema::Reload::kRestart));
  // ...and every live row copies its own member: after taking the live keys, only the
  // restart-only keys still differ, and taking those too gives the changed config.
  Config live = schema::WithLiveKeys(base, changed);
  Config restart_only = schema::WithLiveKeys(changed, base);
  EXPECT_NE(live, base);
  EXPECT_EQ(schema::RestartKeysChanged(live, base).size(), 0u);
  EXPECT_EQ(schema::RestartKeysChanged(restart_only, changed).size(), 0u);
  EXPECT_EQ(schema::WithLiveKeys(restart_only, changed), changed);
}

TEST(SchemaTest, ReloadAppliesLiveKeysOnly) {
  const Config running = Config::Default();
  Config next = running;
  next.workers = 2;
  next.listeners[0].backlog = 10;
  next.timeouts.tick = absl::Milliseconds(2);
  next.timeouts.idle = absl::Seconds(5);
  next.limits.max_frame_bytes = 4096;
  next.logging.level = "debug";
  next.logging.format = LogFormat::kJson;
  EXPECT_THAT(schema::RestartKeysChanged(running, next),
              ElementsAre("workers", "listeners", "timeouts.tick", "logging.format"));
  Config expected = running;
  expected.timeouts.idle = absl::Seconds(5);
  expected.limits.max_frame_bytes = 4096;
  expected.logging.level = "debug";
  EXPECT_EQ(schema::WithLiveKeys(running, next), expected);
}

TEST(SchemaTest, DescribeKeysNamesWholeSections) {
  EXPECT_EQ(schema::DescribeKeys(schema::Reload::kLive),
            "limits, timeouts.idle, timeouts.read, timeouts.write, timeouts.drain, backpressure, "
            "logging.level");
  EXPECT_EQ(schema::DescribeKeys(schema::Reload::kRestart),
            "workers, cpu_affinity, listeners, timeouts.tick, socket, admin, logging.format");
}

}  // namespace
}  // namespace shoal::server
