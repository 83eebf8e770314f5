// The shoal configuration: plain value types with documented defaults, a strict YAML loader, and
// the reverse (the effective config as YAML, served at /config). DESIGN.md section 3 is the schema.
//
// Contract of ParseConfig / LoadConfigFile:
//  * Keys left out take the defaults below; an empty file, or one holding only comments, is
//    Config::Default(). A given `listeners` list replaces the default list entirely.
//  * Strict: unknown keys (with a "did you mean 'X'?" hint when a known key is close), duplicate
//    keys, wrong types, bad units and out-of-range values are all errors. Booleans are exactly
//    `true` or `false` (no yes/no/on/off, not quoted). Integers are plain decimal scalars (not
//    quoted). Durations and sizes use the formats of ParseDuration and ParseSize (plain or
//    quoted). A section with an empty body ("limits:" with its lines commented out) keeps its
//    defaults; an empty scalar value ("idle:") is an error. One YAML document per file; anchors
//    and aliases work, merge keys ("<<") are not supported.
//  * Every error is one line "file:line:column: key.path: message" (1-based, pointing at the key
//    for unknown/duplicate keys, at the value otherwise), e.g.
//      shoal.yaml:7:9: timeouts.idle: invalid duration 'ten seconds' (expected a number with a
//      unit: 250ms, 10s, 5m)
//      shoal.yaml:3:5: listeners[0].adress: unknown key (did you mean 'address'?)
//    YAML syntax errors carry file:line:column too (and stop the parse: only that one is given).
//    Otherwise ALL errors are reported, one per line, in an InvalidArgument status: first the
//    structural ones (unknown keys, types, units) in file order, then range and cross-field
//    checks. A check that reads a value which failed to parse is skipped, so one mistake gives
//    one line. A cross-field error (low_watermark >= high_watermark) points at a key the file
//    sets, when only one of the two is set.
//
// Everything here is a pure function of its arguments (LoadConfigFile also reads the file), so any
// of it may be called from any thread.
#ifndef SHOAL_SERVER_CONFIG_H_
#define SHOAL_SERVER_CONFIG_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shoal::server {

enum class ProtocolKind { kEcho, kHttp, kResp };
// "echo", "http" or "resp": the spelling used in the YAML file.
std::string_view ProtocolName(ProtocolKind kind);

struct ListenerConfig {
  std::string name;     // required; 1-64 of [A-Za-z0-9_.-]; unique; the `listener` label
  std::string address;  // required; "0.0.0.0:7000", "[::]:7000" (core::SocketAddress)
  ProtocolKind protocol = ProtocolKind::kEcho;
  int backlog = 4096;     // >= 1
  bool reuseport = true;  // one socket per worker; false = one shared socket
  friend bool operator==(const ListenerConfig&, const ListenerConfig&) = default;
};

struct LimitsConfig {
  uint64_t max_connections = 100000;     // whole process; >= 1
  uint64_t max_frame_bytes = 1 << 20;    // echo/resp frame, http body; 1 .. 1GiB
  uint64_t max_header_bytes = 16 << 10;  // http; 1 .. 1GiB
  friend bool operator==(const LimitsConfig&, const LimitsConfig&) = default;
};

// All timeouts are > 0. tick is the timer wheel resolution, 1ms .. 1s (epoll_wait has millisecond
// resolution, so a finer tick would only spin).
struct TimeoutsConfig {
  absl::Duration idle = absl::Seconds(60);
  absl::Duration read = absl::Seconds(10);   // a started frame/request must complete in this
  absl::Duration write = absl::Seconds(30);  // queued output must make progress in this
  absl::Duration drain = absl::Seconds(10);  // graceful shutdown deadline
  absl::Duration tick = absl::Milliseconds(10);
  friend bool operator==(const TimeoutsConfig&, const TimeoutsConfig&) = default;
};

// low_watermark < high_watermark <= worker_budget.
struct BackpressureConfig {
  uint64_t high_watermark = 1 << 20;
  uint64_t low_watermark = 256 << 10;
  uint64_t worker_budget = 256ull << 20;
  friend bool operator==(const BackpressureConfig&, const BackpressureConfig&) = default;
};

struct SocketConfig {
  bool tcp_nodelay = true;
  bool keepalive = true;
  uint64_t rcvbuf = 0;  // SO_RCVBUF; 0 = kernel default; at most INT32_MAX
  uint64_t sndbuf = 0;  // SO_SNDBUF; 0 = kernel default; at most INT32_MAX
  friend bool operator==(const SocketConfig&, const SocketConfig&) = default;
};

struct AdminConfig {
  std::string address = "127.0.0.1:9100";  // core::SocketAddress syntax; port 0 = ephemeral
  friend bool operator==(const AdminConfig&, const AdminConfig&) = default;
};

enum class LogFormat { kText, kJson };
// "text" or "json".
std::string_view LogFormatName(LogFormat format);

struct LoggingConfig {
  std::string level = "info";  // trace | debug | info | warn | error
  LogFormat format = LogFormat::kText;
  friend bool operator==(const LoggingConfig&, const LoggingConfig&) = default;
};

struct Config {
  int workers = 0;                        // 0 = one per online CPU; 0 .. 1024
  bool cpu_affinity = false;              // pin worker i to CPU i
  std::vector<ListenerConfig> listeners;  // non-empty after Default()/ParseConfig
  LimitsConfig limits;
  TimeoutsConfig timeouts;
  BackpressureConfig backpressure;
  SocketConfig socket;
  AdminConfig admin;
  LoggingConfig logging;

  // The built-in default, what `shoal` runs without --config: the values above plus one listener
  // {name "echo", address "0.0.0.0:7000", protocol echo, backlog 4096, reuseport true}.
  static Config Default();

  friend bool operator==(const Config&, const Config&) = default;
};

// Parses and validates `yaml_text`. `file_name` only prefixes error messages.
absl::StatusOr<Config> ParseConfig(std::string_view yaml_text, std::string_view file_name);

// Reads `path` and parses it (errors are prefixed with `path`). A file that cannot be read gives an
// error naming the path and the reason, e.g. "cannot read config file 'x.yaml': No such file or
// directory" (NotFound for a missing file).
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

// The semantic checks of ParseConfig (ranges, cross-field rules, addresses, unique names) for a
// Config built or modified in code, e.g. after a command-line override. Errors are
// "key.path: message", one per line, in an InvalidArgument status.
absl::Status ValidateConfig(const Config& config);

// The config as YAML with every key present, in the layout of DESIGN.md section 3. For any valid
// config c, ParseConfig(ConfigToYaml(c), ...) == c.
std::string ConfigToYaml(const Config& config);

// A duration: one or more <number><unit> parts with units in strictly decreasing order, e.g.
// "250ms", "10s", "1.5s", "5m", "1h30m". Units: ns, us (or µs), ms, s, m, h. A number is decimal
// digits with an optional fraction; the total is truncated to whole nanoseconds. Rejected: a bare
// number (even "0"), signs (negative durations), spaces, other units, anything over INT64_MAX ns
// (about 292 years).
absl::StatusOr<absl::Duration> ParseDuration(std::string_view text);
// The shortest exact spelling ParseDuration accepts: "10s", "250ms", "90m", "1500us", "0s".
// Infinite or negative durations (never valid in a Config) are spelled as absl does.
std::string FormatConfigDuration(absl::Duration duration);

// A byte count: decimal digits with an optional unit, no sign, fraction or space. Units: B,
// binary KiB MiB GiB TiB (powers of 1024), decimal KB (or kB) MB GB TB (powers of 1000, as SI
// defines them; so "64KB" is 64000). Values over UINT64_MAX are rejected.
absl::StatusOr<uint64_t> ParseSize(std::string_view text);
// The shortest exact spelling in binary units: "1MiB", "64KiB", "1000", "0".
std::string FormatConfigSize(uint64_t bytes);

}  // namespace shoal::server

#endif  // SHOAL_SERVER_CONFIG_H_
