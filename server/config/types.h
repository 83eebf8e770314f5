// The shoal configuration as plain value types. The members carry no defaults of their own: the
// schema table (schema.h) holds every default, bound and doc line, and Config::Default() is built
// from it. A value-initialized Config is all zeros and empty strings, not a usable config.
//
// Value types: copy freely, use from any thread.
#ifndef SHOAL_SERVER_CONFIG_TYPES_H_
#define SHOAL_SERVER_CONFIG_TYPES_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace shoal::server {

enum class LogFormat { kText, kJson };
// "text" or "json".
std::string_view LogFormatName(LogFormat format);
// Every format's name, in enum order.
std::span<const std::string_view> LogFormatNames();

// The spellings logging.level accepts: trace, debug, info, warn, error.
std::span<const std::string_view> LogLevelNames();

// How a listener's connections are spread over workers: the SO_REUSEPORT hash, the receiving
// CPU's worker, or the worker with the fewest connections (core/server.h).
enum class Balance { kKernel, kCpu, kLeastConnections };
// "kernel", "cpu", "least_connections", in enum order.
std::span<const std::string_view> BalanceNames();

// Which PROXY protocol header a listener requires first on every connection (core/proxy_header.h).
enum class ProxyProtocol { kOff, kV1, kV2, kAny };
// "off", "v1", "v2", "any", in enum order.
std::span<const std::string_view> ProxyProtocolNames();
// The oldest TLS version a listener accepts.
enum class TlsMinVersion { k1_2, k1_3 };
// "1.2", "1.3", in enum order.
std::span<const std::string_view> TlsVersionNames();

// TLS on a listener; an empty certificate means plaintext.
struct ListenerTlsConfig {
  std::string certificate;  // PEM chain file
  std::string private_key;  // PEM file
  TlsMinVersion min_version{};
  std::vector<std::string> alpn;
  friend bool operator==(const ListenerTlsConfig&, const ListenerTlsConfig&) = default;
};

struct ListenerConfig {
  std::string name;     // the `listener` label
  std::string address;  // core::SocketAddress syntax
  std::string protocol;  // a registered protocol's name (server/protocols/registry.h)
  int backlog{};
  bool reuseport{};
  bool reuseport_join{};
  Balance balance{};
  ProxyProtocol proxy_protocol{};
  std::vector<std::string> trusted_proxies = {};  // core::Cidr syntax
  ListenerTlsConfig tls{};
  friend bool operator==(const ListenerConfig&, const ListenerConfig&) = default;
};

struct LimitsConfig {
  uint64_t max_connections{};
  uint64_t max_frame_bytes{};
  uint64_t max_header_bytes{};
  uint64_t max_connections_per_source{};
  uint64_t connection_rate_per_source{};
  uint64_t max_memory{};
  absl::Duration max_delay{};
  absl::Duration max_connection_age{};
  uint64_t max_connection_age_jitter_percent{};
  uint64_t max_requests_per_connection{};
  friend bool operator==(const LimitsConfig&, const LimitsConfig&) = default;
};

struct TimeoutsConfig {
  absl::Duration idle;
  absl::Duration read;
  absl::Duration write;
  absl::Duration drain;
  absl::Duration tick;
  friend bool operator==(const TimeoutsConfig&, const TimeoutsConfig&) = default;
};

struct BackpressureConfig {
  uint64_t high_watermark{};
  uint64_t low_watermark{};
  uint64_t worker_budget{};
  friend bool operator==(const BackpressureConfig&, const BackpressureConfig&) = default;
};

struct SocketConfig {
  bool tcp_nodelay{};
  bool keepalive{};
  uint64_t rcvbuf{};
  uint64_t sndbuf{};
  friend bool operator==(const SocketConfig&, const SocketConfig&) = default;
};

struct AdminConfig {
  std::string address;
  ListenerTlsConfig tls{};
  friend bool operator==(const AdminConfig&, const AdminConfig&) = default;
};

struct LoggingConfig {
  std::string level;
  LogFormat format{};
  friend bool operator==(const LoggingConfig&, const LoggingConfig&) = default;
};

struct Config {
  int workers{};
  bool cpu_affinity{};
  std::vector<ListenerConfig> listeners;
  LimitsConfig limits;
  TimeoutsConfig timeouts;
  BackpressureConfig backpressure;
  SocketConfig socket;
  AdminConfig admin;
  LoggingConfig logging;

  // The built-in default, what `shoal` runs without --config: every key at its schema default,
  // and one listener {name "echo", address "0.0.0.0:7000"} with the listener defaults.
  static Config Default();

  friend bool operator==(const Config&, const Config&) = default;
};

}  // namespace shoal::server

#endif  // SHOAL_SERVER_CONFIG_TYPES_H_
