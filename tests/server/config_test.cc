#include "server/config.h"

#include <cstdint>
#include <fstream>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shoal::server {
namespace {

using ::testing::HasSubstr;

// The error text of parsing `yaml` as "t.yaml"; fails the test if it parses.
std::string ErrorOf(const std::string& yaml) {
  absl::StatusOr<Config> config = ParseConfig(yaml, "t.yaml");
  EXPECT_FALSE(config.ok()) << "parsed unexpectedly:\n" << yaml;
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

Config ParseOk(const std::string& yaml) {
  absl::StatusOr<Config> config = ParseConfig(yaml, "t.yaml");
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : Config();
}

// A config with every key different from its default.
constexpr char kFullYaml[] = R"yaml(# every key
workers: 8
cpu_affinity: true
listeners:
  - name: echo-v4
    address: 127.0.0.1:7001
    protocol: echo
    backlog: 128
    reuseport: false
  - name: web
    address: "[::]:8080"
    protocol: http
    backlog: 1024
    reuseport: true
    balance: least_connections
  - name: redis.1
    address: 0.0.0.0:6380
    protocol: resp
limits:
  max_connections: 5000
  max_frame_bytes: 4MiB
  max_header_bytes: 8192
  max_delay: 250ms
  max_connection_age: 90s
  max_connection_age_jitter: 20%
  max_requests_per_connection: 1000
timeouts:
  idle: 5m
  read: 2500ms
  write: 1h
  drain: 1.5s
  tick: 1ms
backpressure:
  high_watermark: 2MiB
  low_watermark: 64KB
  worker_budget: 1GiB
socket:
  tcp_nodelay: false
  keepalive: false
  rcvbuf: 256KiB
  sndbuf: 65536
admin:
  address: "[::1]:9200"
logging:
  level: debug
  format: json
)yaml";

Config FullConfig() {
  Config c;
  c.workers = 8;
  c.cpu_affinity = true;
  c.listeners = {
      {"echo-v4", "127.0.0.1:7001", "echo", 128, false},
      {"web", "[::]:8080", "http", 1024, true, false, Balance::kLeastConnections},
      {"redis.1", "0.0.0.0:6380", "resp", 4096, true},
  };
  c.limits = {5000, 4u << 20, 8192};
  c.limits.max_delay = absl::Milliseconds(250);
  c.limits.max_connection_age = absl::Seconds(90);
  c.limits.max_connection_age_jitter_percent = 20;
  c.limits.max_requests_per_connection = 1000;
  c.timeouts.idle = absl::Minutes(5);
  c.timeouts.read = absl::Milliseconds(2500);
  c.timeouts.write = absl::Hours(1);
  c.timeouts.drain = absl::Milliseconds(1500);
  c.timeouts.tick = absl::Milliseconds(1);
  c.backpressure = {2u << 20, 64000, 1u << 30};
  c.socket = {false, false, 256u << 10, 65536};
  c.admin.address = "[::1]:9200";
  c.logging = {"debug", LogFormat::kJson};
  return c;
}

// ------------------------------------------------------------------------------------------------
// Defaults and valid files.

TEST(ConfigTest, DefaultMatchesDesign) {
  Config c = Config::Default();
  EXPECT_EQ(c.workers, 0);
  EXPECT_FALSE(c.cpu_affinity);
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].name, "echo");
  EXPECT_EQ(c.listeners[0].address, "0.0.0.0:7000");
  EXPECT_EQ(c.listeners[0].protocol, "echo");
  EXPECT_EQ(c.listeners[0].backlog, 4096);
  EXPECT_TRUE(c.listeners[0].reuseport);
  EXPECT_EQ(c.limits.max_connections, 100000u);
  EXPECT_EQ(c.limits.max_frame_bytes, 1u << 20);
  EXPECT_EQ(c.limits.max_header_bytes, 16u << 10);
  EXPECT_EQ(c.timeouts.idle, absl::Seconds(60));
  EXPECT_EQ(c.timeouts.read, absl::Seconds(10));
  EXPECT_EQ(c.timeouts.write, absl::Seconds(30));
  EXPECT_EQ(c.timeouts.drain, absl::Seconds(10));
  EXPECT_EQ(c.timeouts.tick, absl::Milliseconds(10));
  EXPECT_EQ(c.backpressure.high_watermark, 1u << 20);
  EXPECT_EQ(c.backpressure.low_watermark, 256u << 10);
  EXPECT_EQ(c.backpressure.worker_budget, 256ull << 20);
  EXPECT_TRUE(c.socket.tcp_nodelay);
  EXPECT_TRUE(c.socket.keepalive);
  EXPECT_EQ(c.socket.rcvbuf, 0u);
  EXPECT_EQ(c.socket.sndbuf, 0u);
  EXPECT_EQ(c.admin.address, "127.0.0.1:9100");
  EXPECT_EQ(c.logging.level, "info");
  EXPECT_EQ(c.logging.format, LogFormat::kText);
  EXPECT_TRUE(ValidateConfig(c).ok()) << ValidateConfig(c);
}

TEST(ConfigTest, EmptyAndCommentOnlyFilesAreTheDefault) {
  EXPECT_EQ(ParseOk(""), Config::Default());
  EXPECT_EQ(ParseOk("\n\n"), Config::Default());
  EXPECT_EQ(ParseOk("# nothing here\n  # indented comment\n"), Config::Default());
  EXPECT_EQ(ParseOk("---\n"), Config::Default());
  EXPECT_EQ(ParseOk("{}"), Config::Default());
}

TEST(ConfigTest, FullFileSetsEveryKey) {
  Config c = ParseOk(kFullYaml);
  EXPECT_EQ(c, FullConfig());
  // Spot checks, so a failure says which field.
  EXPECT_EQ(c.workers, 8);
  EXPECT_EQ(c.listeners[1].address, "[::]:8080");
  EXPECT_EQ(c.listeners[2].backlog, 4096);  // omitted in an item: default
  EXPECT_EQ(c.timeouts.drain, absl::Milliseconds(1500));
  EXPECT_EQ(c.backpressure.low_watermark, 64000u);  // KB is decimal
  EXPECT_EQ(c.logging.format, LogFormat::kJson);
  EXPECT_NE(c, Config::Default());
}

TEST(ConfigTest, OmittedKeysTakeDefaults) {
  Config c = ParseOk("timeouts:\n  idle: 90s\nsocket:\n  rcvbuf: 1MiB\n");
  Config expected = Config::Default();
  expected.timeouts.idle = absl::Seconds(90);
  expected.socket.rcvbuf = 1u << 20;
  EXPECT_EQ(c, expected);
}

TEST(ConfigTest, ListenersReplaceTheDefaultList) {
  Config c = ParseOk("listeners:\n  - name: web\n    address: 0.0.0.0:8080\n    protocol: http\n");
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0],
            (ListenerConfig{"web", "0.0.0.0:8080", "http", 4096, true}));
}

TEST(ConfigTest, EmptySectionMeansDefaults) {
  // A section whose body is commented out is an empty map.
  EXPECT_EQ(ParseOk("limits:\n#  max_connections: 10\ntimeouts: {}\n"), Config::Default());
}

TEST(ConfigTest, FlowStyleAndQuotedSizesAndDurations) {
  Config c = ParseOk(
      "timeouts: {idle: \"30s\", tick: '5ms'}\n"
      "limits: {max_frame_bytes: \"2MiB\", max_header_bytes: '1024'}\n"
      "listeners: [{name: a, address: '127.0.0.1:0'}]\n");
  EXPECT_EQ(c.timeouts.idle, absl::Seconds(30));
  EXPECT_EQ(c.timeouts.tick, absl::Milliseconds(5));
  EXPECT_EQ(c.limits.max_frame_bytes, 2u << 20);
  EXPECT_EQ(c.limits.max_header_bytes, 1024u);
  EXPECT_EQ(c.listeners[0].address, "127.0.0.1:0");
}

TEST(ConfigTest, BoundaryValuesAreAccepted) {
  Config c = ParseOk(
      "workers: 1024\n"
      "listeners:\n  - {name: a, address: '0.0.0.0:1', backlog: 1}\n"
      "limits: {max_connections: 1, max_frame_bytes: 1GiB, max_header_bytes: 1}\n"
      "timeouts: {idle: 1ns, tick: 1s}\n"
      "backpressure: {low_watermark: 0, high_watermark: 1, worker_budget: 1}\n"
      "socket: {rcvbuf: 2147483647, sndbuf: 2147483647}\n"
      "admin: {address: '127.0.0.1:0'}\n");
  EXPECT_EQ(c.workers, 1024);
  EXPECT_EQ(c.limits.max_frame_bytes, 1u << 30);
  EXPECT_EQ(c.timeouts.idle, absl::Nanoseconds(1));
  EXPECT_EQ(c.timeouts.tick, absl::Seconds(1));
  EXPECT_EQ(c.socket.rcvbuf, 2147483647u);
  EXPECT_EQ(ParseOk("timeouts: {tick: 1ms}\n").timeouts.tick, absl::Milliseconds(1));
}

TEST(ConfigTest, NamesOfEnums) {
  EXPECT_EQ(LogFormatName(LogFormat::kText), "text");
  EXPECT_EQ(LogFormatName(LogFormat::kJson), "json");
}

// ------------------------------------------------------------------------------------------------
// Errors: each names file:line:column (1-based) and the key path.

TEST(ConfigErrorTest, UnknownTopLevelKeyWithHint) {
  EXPECT_EQ(ErrorOf("worker: 4\n"), "t.yaml:1:1: worker: unknown key (did you mean 'workers'?)");
  EXPECT_EQ(ErrorOf("workers: 1\ncpu_afinity: true\n"),
            "t.yaml:2:1: cpu_afinity: unknown key (did you mean 'cpu_affinity'?)");
  EXPECT_EQ(ErrorOf("Workers: 1\n"), "t.yaml:1:1: Workers: unknown key (did you mean 'workers'?)");
}

TEST(ConfigErrorTest, UnknownKeyWithoutHint) {
  EXPECT_EQ(ErrorOf("workers: 1\nbananas: 3\n"), "t.yaml:2:1: bananas: unknown key");
}

TEST(ConfigErrorTest, UnknownListenerKeyPointsAtTheKey) {
  EXPECT_EQ(ErrorOf("listeners:\n  - name: a\n    adress: 0.0.0.0:1\n"),
            "t.yaml:3:5: listeners[0].adress: unknown key (did you mean 'address'?)\n"
            "t.yaml:2:5: listeners[0]: missing required key 'address'");
  EXPECT_EQ(ErrorOf("listeners:\n  - name: a\n    address: 0.0.0.0:1\n    reuseprot: true\n"),
            "t.yaml:4:5: listeners[0].reuseprot: unknown key (did you mean 'reuseport'?)");
}

TEST(ConfigErrorTest, UnknownNestedKeyHints) {
  EXPECT_EQ(ErrorOf("timeouts:\n  idle: 5s\n  wirte: 5s\n"),
            "t.yaml:3:3: timeouts.wirte: unknown key (did you mean 'write'?)");
  EXPECT_EQ(ErrorOf("backpressure:\n  high_water_mark: 2MiB\n"),
            "t.yaml:2:3: backpressure.high_water_mark: unknown key (did you mean "
            "'high_watermark'?)");
  // A key written in the wrong section.
  EXPECT_EQ(ErrorOf("idle: 5s\n"), "t.yaml:1:1: idle: unknown key (did you mean 'timeouts.idle'?)");
  EXPECT_EQ(ErrorOf("limits:\n  keepalive: true\n"),
            "t.yaml:2:3: limits.keepalive: unknown key (did you mean 'socket.keepalive'?)");
}

TEST(ConfigErrorTest, DuplicateKey) {
  EXPECT_EQ(ErrorOf("workers: 1\ncpu_affinity: true\nworkers: 2\n"),
            "t.yaml:3:1: workers: duplicate key (first given at line 1)");
  EXPECT_EQ(ErrorOf("timeouts:\n  idle: 1s\n  idle: 2s\n"),
            "t.yaml:3:3: timeouts.idle: duplicate key (first given at line 2)");
}

TEST(ConfigErrorTest, InvalidDurationPointsAtTheValue) {
  EXPECT_EQ(ErrorOf("workers: 2\ntimeouts:\n  read: 1s\n  idle: ten seconds\n"),
            "t.yaml:4:9: timeouts.idle: invalid duration 'ten seconds' (expected a number with a "
            "unit: 250ms, 10s, 5m)");
  EXPECT_EQ(ErrorOf("timeouts:\n  read: 10\n"),
            "t.yaml:2:9: timeouts.read: invalid duration '10' (expected a number with a unit: "
            "250ms, 10s, 5m)");
  EXPECT_EQ(ErrorOf("timeouts:\n  write: -5s\n"),
            "t.yaml:2:10: timeouts.write: invalid duration '-5s' (must not be negative)");
  EXPECT_EQ(ErrorOf("timeouts:\n  drain: 99999999999h\n"),
            "t.yaml:2:10: timeouts.drain: duration '99999999999h' is out of range (at most "
            "2562047h, ~292 years)");
}

TEST(ConfigErrorTest, InvalidSize) {
  EXPECT_EQ(ErrorOf("limits:\n  max_frame_bytes: 1.5MiB\n"),
            "t.yaml:2:20: limits.max_frame_bytes: invalid size '1.5MiB' (expected bytes or an "
            "integer with a unit: 4096, 64KiB, 1MiB, 1GiB)");
  EXPECT_EQ(ErrorOf("socket:\n  sndbuf: -1\n"),
            "t.yaml:2:11: socket.sndbuf: invalid size '-1' (must not be negative)");
}

TEST(ConfigErrorTest, InvalidPercentage) {
  EXPECT_EQ(ErrorOf("limits:\n  max_connection_age_jitter: 10\n"),
            "t.yaml:2:30: limits.max_connection_age_jitter: invalid percentage '10' (expected "
            "digits and '%', e.g. 10%)");
  EXPECT_EQ(ErrorOf("limits:\n  max_connection_age_jitter: 150%\n"),
            "t.yaml:2:30: limits.max_connection_age_jitter: must be at most 100%, got 150%");
}

TEST(ConfigErrorTest, WrongTypes) {
  EXPECT_EQ(ErrorOf("limits: [1, 2]\n"), "t.yaml:1:9: limits: expected a map of keys, got a list");
  EXPECT_EQ(ErrorOf("timeouts: 5s\n"), "t.yaml:1:11: timeouts: expected a map of keys, got '5s'");
  EXPECT_EQ(ErrorOf("workers: abc\n"), "t.yaml:1:10: workers: expected an integer, got 'abc'");
  EXPECT_EQ(ErrorOf("workers: 1.5\n"), "t.yaml:1:10: workers: expected an integer, got '1.5'");
  EXPECT_EQ(ErrorOf("workers: \"4\"\n"),
            "t.yaml:1:10: workers: expected an integer, got the quoted string '4'");
  EXPECT_EQ(ErrorOf("workers: {a: 1}\n"), "t.yaml:1:10: workers: expected an integer, got a map");
  EXPECT_EQ(ErrorOf("cpu_affinity: yes\n"),
            "t.yaml:1:15: cpu_affinity: expected true or false, got 'yes'");
  EXPECT_EQ(ErrorOf("cpu_affinity: True\n"),
            "t.yaml:1:15: cpu_affinity: expected true or false, got 'True'");
  EXPECT_EQ(ErrorOf("socket:\n  keepalive: 'true'\n"),
            "t.yaml:2:14: socket.keepalive: expected true or false, got the quoted string 'true'");
  EXPECT_EQ(ErrorOf("admin:\n  address: [1, 2]\n"),
            "t.yaml:2:12: admin.address: expected a string, got a list");
  EXPECT_EQ(ErrorOf("listeners: echo\n"),
            "t.yaml:1:12: listeners: expected a list of listeners, got 'echo'");
  EXPECT_EQ(ErrorOf("listeners:\n  - echo\n"),
            "t.yaml:2:5: listeners[0]: expected a map of keys, got 'echo'");
  EXPECT_EQ(ErrorOf("- workers: 1\n"),
            "t.yaml:1:1: expected a map of keys at the top level, got a list");
  EXPECT_EQ(ErrorOf("? [a]\n: 1\n"), "t.yaml:1:3: keys must be strings, got a list");
}

TEST(ConfigErrorTest, MissingValuePointsAtTheKey) {
  EXPECT_EQ(ErrorOf("timeouts:\n  idle:\n  read: 5s\n"),
            "t.yaml:2:3: timeouts.idle: missing value (expected a duration such as 10s)");
  EXPECT_EQ(ErrorOf("workers: ~\n"), "t.yaml:1:10: workers: missing value (expected an integer)");
}

TEST(ConfigErrorTest, IntegerOverflow) {
  EXPECT_EQ(ErrorOf("workers: 99999999999\n"),
            "t.yaml:1:10: workers: integer 99999999999 is out of range");
  EXPECT_EQ(ErrorOf("limits:\n  max_connections: 99999999999999999999\n"),
            "t.yaml:2:20: limits.max_connections: integer '99999999999999999999' is out of range");
  EXPECT_EQ(ErrorOf("limits:\n  max_connections: -3\n"),
            "t.yaml:2:20: limits.max_connections: must not be negative, got -3");
}

TEST(ConfigErrorTest, OutOfRangeValues) {
  EXPECT_EQ(ErrorOf("workers: 2000\n"),
            "t.yaml:1:10: workers: must be between 0 and 1024 (0 = one per online CPU), got 2000");
  EXPECT_EQ(ErrorOf("workers: -1\n"),
            "t.yaml:1:10: workers: must be between 0 and 1024 (0 = one per online CPU), got -1");
  EXPECT_EQ(ErrorOf("listeners:\n  - name: a\n    address: 0.0.0.0:1\n    backlog: 0\n"),
            "t.yaml:4:14: listeners[0].backlog: must be at least 1, got 0");
  EXPECT_EQ(ErrorOf("limits:\n  max_connections: 0\n"),
            "t.yaml:2:20: limits.max_connections: must be at least 1, got 0");
  EXPECT_EQ(ErrorOf("limits:\n  max_frame_bytes: 0\n"),
            "t.yaml:2:20: limits.max_frame_bytes: must be between 1 and 1GiB, got 0");
  EXPECT_EQ(ErrorOf("limits:\n  max_frame_bytes: 1073741825\n"),
            "t.yaml:2:20: limits.max_frame_bytes: must be between 1 and 1GiB, got 1073741825");
  EXPECT_EQ(ErrorOf("limits:\n  max_header_bytes: 2GiB\n"),
            "t.yaml:2:21: limits.max_header_bytes: must be between 1 and 1GiB, got 2GiB");
  EXPECT_EQ(ErrorOf("timeouts:\n  idle: 0s\n"),
            "t.yaml:2:9: timeouts.idle: must be greater than 0, got 0s");
  EXPECT_EQ(ErrorOf("timeouts:\n  tick: 0ms\n"),
            "t.yaml:2:9: timeouts.tick: must be between 1ms and 1s, got 0s");
  EXPECT_EQ(ErrorOf("timeouts:\n  tick: 1001ms\n"),
            "t.yaml:2:9: timeouts.tick: must be between 1ms and 1s, got 1001ms");
  EXPECT_EQ(ErrorOf("timeouts:\n  tick: 500us\n"),
            "t.yaml:2:9: timeouts.tick: must be between 1ms and 1s, got 500us");
  EXPECT_EQ(ErrorOf("socket:\n  rcvbuf: 2GiB\n"),
            "t.yaml:2:11: socket.rcvbuf: must be at most 2147483647 (0 = kernel default), got "
            "2147483648");
}

TEST(ConfigErrorTest, WatermarkOrdering) {
  // Both written: reported at low_watermark.
  EXPECT_EQ(ErrorOf("backpressure:\n  high_watermark: 1MiB\n  low_watermark: 1MiB\n"),
            "t.yaml:3:18: backpressure.low_watermark: low_watermark (1MiB) must be less than "
            "high_watermark (1MiB)");
  // Only high written (default low is 256KiB): reported at the key the user wrote.
  EXPECT_EQ(ErrorOf("backpressure:\n  high_watermark: 128KiB\n"),
            "t.yaml:2:19: backpressure.high_watermark: low_watermark (256KiB) must be less than "
            "high_watermark (128KiB)");
  EXPECT_EQ(ErrorOf("backpressure:\n  worker_budget: 512KiB\n"),
            "t.yaml:2:18: backpressure.worker_budget: high_watermark (1MiB) must not exceed "
            "worker_budget (512KiB)");
  EXPECT_EQ(ErrorOf("backpressure:\n  high_watermark: 2MiB\n  worker_budget: 1MiB\n"),
            "t.yaml:2:19: backpressure.high_watermark: high_watermark (2MiB) must not exceed "
            "worker_budget (1MiB)");
}

TEST(ConfigErrorTest, EnumsAndLevels) {
  EXPECT_EQ(ErrorOf("listeners:\n  - name: a\n    address: 0.0.0.0:1\n    protocol: htp\n"),
            "t.yaml:4:15: listeners[0].protocol: unknown protocol 'htp' (did you mean 'http'?)");
  EXPECT_EQ(ErrorOf("listeners:\n  - name: a\n    address: 0.0.0.0:1\n    protocol: memcache\n"),
            "t.yaml:4:15: listeners[0].protocol: unknown protocol 'memcache' (expected echo, "
            "http or resp)");
  EXPECT_EQ(ErrorOf("logging:\n  level: verbose\n"),
            "t.yaml:2:10: logging.level: unknown level 'verbose' (expected trace, debug, info, "
            "warn or error)");
  EXPECT_EQ(ErrorOf("logging:\n  level: debgu\n"),
            "t.yaml:2:10: logging.level: unknown level 'debgu' (did you mean 'debug'?)");
  EXPECT_EQ(ErrorOf("logging:\n  format: yaml\n"),
            "t.yaml:2:11: logging.format: unknown log format 'yaml' (expected text or json)");
}

TEST(ConfigErrorTest, Addresses) {
  EXPECT_EQ(ErrorOf("admin:\n  address: localhost\n"),
            "t.yaml:2:12: admin.address: invalid address 'localhost': missing ':port' (expected "
            "IPv4:port like 0.0.0.0:7000 or [IPv6]:port like [::]:7000)");
  std::string error = ErrorOf("listeners:\n  - name: a\n    address: 0.0.0.0:99999\n");
  EXPECT_THAT(error, ::testing::StartsWith("t.yaml:3:14: listeners[0].address: invalid address "
                                           "'0.0.0.0:99999'"));
  EXPECT_EQ(ErrorOf("listeners:\n  - {name: a, address: '0.0.0.0:80'}\n"
                    "  - {name: b, address: '0.0.0.0:80'}\n"),
            "t.yaml:3:24: listeners[1].address: address 0.0.0.0:80 is already used by "
            "listeners[0].address");
  EXPECT_EQ(ErrorOf("listeners:\n  - {name: a, address: '127.0.0.1:9100'}\n"),
            "t.yaml:2:24: listeners[0].address: address 127.0.0.1:9100 is already used by "
            "admin.address");
  EXPECT_EQ(ErrorOf("listeners:\n  - {name: a, address: '127.0.0.1:9000'}\n"
                    "admin:\n  address: 127.0.0.1:9000\n"),
            "t.yaml:4:12: admin.address: address 127.0.0.1:9000 is already used by "
            "listeners[0].address");
  // Port 0 (ephemeral) never collides.
  ParseOk(
      "listeners:\n  - {name: a, address: '127.0.0.1:0'}\n  - {name: b, address: "
      "'127.0.0.1:0'}\nadmin: {address: '127.0.0.1:0'}\n");
}

TEST(ConfigErrorTest, ListenerStructure) {
  EXPECT_EQ(ErrorOf("listeners: []\n"),
            "t.yaml:1:12: listeners: must not be empty (give at least one listener)");
  EXPECT_EQ(ErrorOf("listeners:\n"),
            "t.yaml:1:1: listeners: expected a list of listeners, got nothing");
  EXPECT_EQ(ErrorOf("listeners:\n  - {name: a, address: '0.0.0.0:1'}\n  -\n"),
            "t.yaml:3:3: listeners[1]: expected a map of keys (name, address, ...), got nothing");
  EXPECT_EQ(ErrorOf("listeners:\n  - address: 0.0.0.0:1\n"),
            "t.yaml:2:5: listeners[0]: missing required key 'name'");
  EXPECT_EQ(ErrorOf("listeners:\n  - {name: a, address: '0.0.0.0:1'}\n"
                    "  - {name: a, address: '0.0.0.0:2'}\n"),
            "t.yaml:3:12: listeners[1].name: duplicate listener name 'a' (also listeners[0].name)");
  EXPECT_EQ(ErrorOf("listeners:\n  - {name: 'a b', address: '0.0.0.0:1'}\n"),
            "t.yaml:2:12: listeners[0].name: invalid listener name 'a b' (use 1 to 64 of A-Z a-z "
            "0-9 _ . -)");
  EXPECT_EQ(ErrorOf("listeners:\n  - {name: '', address: '0.0.0.0:1'}\n"),
            "t.yaml:2:12: listeners[0].name: must not be empty");
}

TEST(ConfigErrorTest, YamlSyntaxErrorsCarryPosition) {
  EXPECT_EQ(ErrorOf("workers: 1\nlisteners: [a\n"),
            "t.yaml:3:1: YAML syntax error: end of sequence flow not found");
  EXPECT_EQ(ErrorOf("timeouts:\n  idle: 1s\n read: 2s\n"),
            "t.yaml:3:2: YAML syntax error: end of map not found");
  EXPECT_THAT(ErrorOf("workers: 1\n\tcpu_affinity: true\n"), ::testing::StartsWith("t.yaml:2:"));
}

TEST(ConfigErrorTest, MoreThanOneDocument) {
  EXPECT_EQ(ErrorOf("workers: 1\n---\nworkers: 2\n"),
            "t.yaml:3:1: more than one YAML document (a config file holds one)");
}

TEST(ConfigErrorTest, AllErrorsAreReportedInOrder) {
  EXPECT_EQ(ErrorOf("workers: many\n"
                    "timeouts:\n"
                    "  idle: forever\n"
                    "  tick: 5s\n"
                    "logging:\n"
                    "  levle: info\n"),
            "t.yaml:1:10: workers: expected an integer, got 'many'\n"
            "t.yaml:3:9: timeouts.idle: invalid duration 'forever' (expected a number with a "
            "unit: 250ms, 10s, 5m)\n"
            "t.yaml:6:3: logging.levle: unknown key (did you mean 'level'?)\n"
            "t.yaml:4:9: timeouts.tick: must be between 1ms and 1s, got 5s");
}

TEST(ConfigErrorTest, ChecksOnAFailedValueAreSkipped) {
  // high_watermark did not parse, so "low >= high" would only be noise.
  EXPECT_EQ(ErrorOf("backpressure:\n  high_watermark: lots\n  low_watermark: 4MiB\n"),
            "t.yaml:2:19: backpressure.high_watermark: invalid size 'lots' (expected bytes or an "
            "integer with a unit: 4096, 64KiB, 1MiB, 1GiB)");
  // A name that did not parse is not also reported as empty.
  EXPECT_EQ(ErrorOf("listeners:\n  - {name: [a], address: '0.0.0.0:1'}\n"),
            "t.yaml:2:12: listeners[0].name: expected a string, got a list");
  // But independent mistakes in one listener are all reported.
  EXPECT_EQ(ErrorOf("listeners:\n  - {name: a, address: '0.0.0.0:1'}\n"
                    "  - {name: a, address: '0.0.0.0:2', backlog: x}\n"),
            "t.yaml:3:46: listeners[1].backlog: expected an integer, got 'x'\n"
            "t.yaml:3:12: listeners[1].name: duplicate listener name 'a' (also listeners[0].name)");
}

TEST(ConfigErrorTest, FileNameIsUsedInMessages) {
  absl::StatusOr<Config> config = ParseConfig("workers: x\n", "/etc/shoal/shoal.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()),
              ::testing::StartsWith("/etc/shoal/shoal.yaml:1:10: workers: "));
}

// ------------------------------------------------------------------------------------------------
// ValidateConfig, for configs changed in code.

TEST(ValidateConfigTest, ReportsPathsWithoutPositions) {
  Config c = Config::Default();
  c.logging.level = "loud";
  c.timeouts.read = absl::ZeroDuration();
  c.listeners.push_back(c.listeners[0]);
  absl::Status status = ValidateConfig(c);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()),
            "listeners[1].name: duplicate listener name 'echo' (also listeners[0].name)\n"
            "listeners[1].address: address 0.0.0.0:7000 is already used by listeners[0].address\n"
            "timeouts.read: must be greater than 0, got 0s\n"
            "logging.level: unknown level 'loud' (expected trace, debug, info, warn or error)");
  c = Config::Default();
  c.listeners.clear();
  EXPECT_EQ(std::string(ValidateConfig(c).message()),
            "listeners: must not be empty (give at least one listener)");
  EXPECT_TRUE(ValidateConfig(FullConfig()).ok()) << ValidateConfig(FullConfig());
}

// ------------------------------------------------------------------------------------------------
// Units.

TEST(ParseDurationTest, Valid) {
  struct Case {
    const char* text;
    absl::Duration want;
  };
  for (const Case& c : {
           Case{"0s", absl::ZeroDuration()},
           Case{"1ns", absl::Nanoseconds(1)},
           Case{"1500us", absl::Microseconds(1500)},
           Case{"7\xC2\xB5s", absl::Microseconds(7)},
           Case{"7\xCE\xBCs", absl::Microseconds(7)},
           Case{"250ms", absl::Milliseconds(250)},
           Case{"10s", absl::Seconds(10)},
           Case{"5m", absl::Minutes(5)},
           Case{"1h", absl::Hours(1)},
           Case{"1h30m", absl::Minutes(90)},
           Case{"2m3s4ms", absl::Seconds(123) + absl::Milliseconds(4)},
           Case{"1.5s", absl::Milliseconds(1500)},
           Case{"0.25h", absl::Minutes(15)},
           Case{"1.0000000001s", absl::Seconds(1)},  // truncated to whole nanoseconds
           Case{"1.5ns", absl::Nanoseconds(1)},
           Case{"007s", absl::Seconds(7)},
           Case{"9223372036854775807ns", absl::Nanoseconds(std::numeric_limits<int64_t>::max())},
           Case{"2562047h", absl::Hours(2562047)},
       }) {
    absl::StatusOr<absl::Duration> got = ParseDuration(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

TEST(ParseDurationTest, Invalid) {
  for (const char* text :
       {"",      "10",    "0",     "s",     "ms10",   "-1s",   "+1s", "1 s",   " 1s",
        "1s ",   "1.s",   ".5s",   "1..5s", "1d",     "1sec",  "10S", "1MS",   "ten seconds",
        "1e3ms", "0x10s", "30m1h", "1s1s",  "1s500s", "1ms1s", "inf", "1s-1ms"}) {
    absl::StatusOr<absl::Duration> got = ParseDuration(text);
    EXPECT_FALSE(got.ok()) << "'" << text << "' parsed as " << *got;
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << text;
    }
  }
  EXPECT_EQ(std::string(ParseDuration("ten seconds").status().message()),
            "invalid duration 'ten seconds' (expected a number with a unit: 250ms, 10s, 5m)");
  EXPECT_EQ(std::string(ParseDuration("30m1h").status().message()),
            "invalid duration '30m1h' (units must go from larger to smaller, as in 1h30m)");
}

TEST(ParseDurationTest, Overflow) {
  for (const char* text : {"9223372036854775808ns", "2562048h", "99999999999999999999999s",
                           "2562047h47m16.854775808s", "2562047h60m"}) {
    absl::StatusOr<absl::Duration> got = ParseDuration(text);
    ASSERT_FALSE(got.ok()) << text;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kOutOfRange) << text;
  }
  // The exact maximum in mixed units.
  EXPECT_EQ(*ParseDuration("2562047h47m16.854775807s"),
            absl::Nanoseconds(std::numeric_limits<int64_t>::max()));
}

TEST(ParseSizeTest, Valid) {
  struct Case {
    const char* text;
    uint64_t want;
  };
  for (const Case& c : {
           Case{"0", 0},
           Case{"4096", 4096},
           Case{"0B", 0},
           Case{"17B", 17},
           Case{"64KiB", 64 * 1024},
           Case{"1MiB", 1 << 20},
           Case{"1GiB", 1ull << 30},
           Case{"2TiB", 2ull << 40},
           Case{"64KB", 64000},
           Case{"64kB", 64000},
           Case{"3MB", 3000000},
           Case{"1GB", 1000000000},
           Case{"1TB", 1000000000000ull},
           Case{"0010", 10},
           Case{"18446744073709551615", std::numeric_limits<uint64_t>::max()},
           Case{"16777215TiB", 16777215ull << 40},
       }) {
    absl::StatusOr<uint64_t> got = ParseSize(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

TEST(ParseSizeTest, InvalidAndOverflow) {
  for (const char* text : {"", "-1", "+1", "1.5MiB", "1 MiB", " 1", "1k", "1K", "1kib", "1mb",
                           "1Mi", "MiB", "one", "0x10", "1e6", "1MiBB", "1PiB"}) {
    absl::StatusOr<uint64_t> got = ParseSize(text);
    EXPECT_FALSE(got.ok()) << "'" << text << "' parsed as " << *got;
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << text;
    }
  }
  for (const char* text :
       {"18446744073709551616", "16777216TiB", "99999999999999999999999GiB", "18446745TB"}) {
    absl::StatusOr<uint64_t> got = ParseSize(text);
    ASSERT_FALSE(got.ok()) << text;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kOutOfRange) << text;
  }
}

TEST(FormatUnitsTest, ShortestExactSpelling) {
  EXPECT_EQ(FormatConfigDuration(absl::ZeroDuration()), "0s");
  EXPECT_EQ(FormatConfigDuration(absl::Seconds(60)), "1m");
  EXPECT_EQ(FormatConfigDuration(absl::Seconds(90)), "90s");
  EXPECT_EQ(FormatConfigDuration(absl::Minutes(90)), "90m");
  EXPECT_EQ(FormatConfigDuration(absl::Hours(3)), "3h");
  EXPECT_EQ(FormatConfigDuration(absl::Milliseconds(1500)), "1500ms");
  EXPECT_EQ(FormatConfigDuration(absl::Microseconds(1500)), "1500us");
  EXPECT_EQ(FormatConfigDuration(absl::Nanoseconds(1001)), "1001ns");
  EXPECT_EQ(FormatConfigSize(0), "0");
  EXPECT_EQ(FormatConfigSize(1000), "1000");
  EXPECT_EQ(FormatConfigSize(1024), "1KiB");
  EXPECT_EQ(FormatConfigSize(1536), "1536");
  EXPECT_EQ(FormatConfigSize(3 << 20), "3MiB");
  EXPECT_EQ(FormatConfigSize(1ull << 30), "1GiB");
  EXPECT_EQ(FormatConfigSize(5ull << 40), "5TiB");
  EXPECT_EQ(FormatConfigSize(std::numeric_limits<uint64_t>::max()), "18446744073709551615");
  for (int64_t nanos : {int64_t{1}, int64_t{999}, int64_t{60} * 1000 * 1000 * 1000 * 61,
                        std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(*ParseDuration(FormatConfigDuration(absl::Nanoseconds(nanos))),
              absl::Nanoseconds(nanos));
  }
  for (uint64_t bytes : {uint64_t{1}, uint64_t{65536}, uint64_t{65537}, uint64_t{1} << 63,
                         std::numeric_limits<uint64_t>::max()}) {
    EXPECT_EQ(*ParseSize(FormatConfigSize(bytes)), bytes);
  }
}

// ------------------------------------------------------------------------------------------------
// ConfigToYaml.

TEST(ConfigToYamlTest, DefaultRoundTrips) {
  std::string yaml = ConfigToYaml(Config::Default());
  EXPECT_THAT(yaml, HasSubstr("workers: 0\n"));
  EXPECT_THAT(yaml, HasSubstr("listeners:\n  - name: \"echo\"\n    address: \"0.0.0.0:7000\"\n"
                              "    protocol: echo\n    backlog: 4096\n    reuseport: true\n"));
  EXPECT_THAT(yaml, HasSubstr("timeouts:\n  idle: 1m\n  read: 10s\n  write: 30s\n  drain: 10s\n"
                              "  tick: 10ms\n"));
  EXPECT_THAT(yaml, HasSubstr("backpressure:\n  high_watermark: 1MiB\n  low_watermark: 256KiB\n"
                              "  worker_budget: 256MiB\n"));
  EXPECT_THAT(yaml, HasSubstr("logging:\n  level: \"info\"\n  format: text\n"));
  absl::StatusOr<Config> parsed = ParseConfig(yaml, "config.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << yaml;
  EXPECT_EQ(*parsed, Config::Default());
}

TEST(ConfigToYamlTest, FullConfigRoundTrips) {
  Config full = FullConfig();
  full.timeouts.idle = absl::Nanoseconds(1234567891);
  full.limits.max_header_bytes = 12345;
  std::string yaml = ConfigToYaml(full);
  absl::StatusOr<Config> parsed = ParseConfig(yaml, "config.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << yaml;
  EXPECT_EQ(*parsed, full) << yaml;
  // And the file form reaches the same fixed point.
  EXPECT_EQ(ConfigToYaml(ParseOk(kFullYaml)), ConfigToYaml(FullConfig()));
}

TEST(ConfigToYamlTest, StringsAreQuotedSafely) {
  // Not valid values, but the YAML must still carry them faithfully.
  Config odd = Config::Default();
  odd.listeners[0].name = "null";
  odd.admin.address = "a\"b\\c\n#d: e";
  std::string yaml = ConfigToYaml(odd);
  absl::StatusOr<Config> parsed = ParseConfig(yaml, "x");
  ASSERT_FALSE(parsed.ok());  // the address is invalid...
  // ...but it is the address check that fails, with the text intact, not the YAML.
  EXPECT_THAT(std::string(parsed.status().message()),
              HasSubstr("admin.address: invalid address 'a\"b\\c\\n#d: e'"));
  // Still one error per line.
  EXPECT_EQ(std::string(parsed.status().message()).find('\n'), std::string::npos);
  EXPECT_THAT(std::string(parsed.status().message()), ::testing::Not(HasSubstr("name")));
}

// ------------------------------------------------------------------------------------------------
// LoadConfigFile.

std::string WriteTempFile(const std::string& name, const std::string& contents) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  EXPECT_TRUE(out.good()) << path;
  return path;
}

TEST(LoadConfigFileTest, MissingFileNamesThePath) {
  std::string path = ::testing::TempDir() + "/no/such/shoal.yaml";
  absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(config.status().message()),
            "cannot read config file '" + path + "': No such file or directory");
}

TEST(LoadConfigFileTest, DirectoryIsAnError) {
  absl::StatusOr<Config> config = LoadConfigFile(::testing::TempDir());
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()),
              HasSubstr("cannot read config file '" + ::testing::TempDir() + "'"));
}

TEST(LoadConfigFileTest, ReadsARealFile) {
  std::string path = WriteTempFile("full.yaml", kFullYaml);
  absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(*config, FullConfig());

  std::string empty = WriteTempFile("empty.yaml", "");
  config = LoadConfigFile(empty);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(*config, Config::Default());
}

TEST(LoadConfigFileTest, ErrorsNameTheFile) {
  std::string path = WriteTempFile("bad.yaml", "workers: 1\ntimeouts:\n  idle: soon\n");
  absl::StatusOr<Config> config = LoadConfigFile(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(std::string(config.status().message()),
            path +
                ":3:9: timeouts.idle: invalid duration 'soon' (expected a number with a unit: "
                "250ms, 10s, 5m)");
}

}  // namespace
}  // namespace shoal::server
