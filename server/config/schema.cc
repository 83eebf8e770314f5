#include "server/config/schema.h"

#include <algorithm>
#include <limits>

#include "server/config/units.h"
#include "server/protocols/registry.h"

namespace shoal::server {
namespace schema {
namespace {

template <typename T>
constexpr T kMax = std::numeric_limits<T>::max();

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;
constexpr uint64_t kGiB = 1024 * kMiB;

// Up to the int64 nanosecond range (2562047h, ~292 years): deadline sums saturate, so a timeout
// that long is accepted and means never.
const Range<absl::Duration> kPositiveDuration = {absl::Nanoseconds(1), MaxConfigDuration()};
const Range<uint64_t> kAnySize = {0, kMax<uint64_t>};
const Range<uint64_t> kSocketBuffer = {0, uint64_t{kMax<int32_t>}, " (0 = kernel default)"};

using C = Config;
using L = ListenerConfig;
constexpr Reload kLive = Reload::kLive;
constexpr Reload kRestart = Reload::kRestart;

// The TLS keys' documentation, shared by listeners[].tls and admin.tls.
constexpr char kTlsCertificateDoc[] = "PEM chain; empty = plaintext; the file is re-read on SIGHUP";
constexpr char kTlsPrivateKeyDoc[] = "PEM; re-read on SIGHUP with the certificate";
constexpr char kTlsMinVersionDoc[] = "oldest TLS version accepted";
constexpr char kTlsAlpnDoc[] =
    "ALPN protocols; a client offering none of them fails; empty = no ALPN";

const Key<Config> kConfigKeys[] = {
    {"workers",
     CountKey<C, int>{&Member<C, &C::workers>, 0, {0, 1024, " (0 = one per online CPU)"}}, kRestart,
     "worker threads; 0 = one per online CPU"},
    {"cpu_affinity", BoolKey<C>{&Member<C, &C::cpu_affinity>, false}, kRestart,
     "pin worker i to CPU i"},
    {"listeners", ListenersKey{&Member<C, &C::listeners>, "listener"}, kRestart,
     "a given list replaces this one"},
    {"limits.max_connections",
     CountKey<C, uint64_t>{
         &Member<C, &C::limits, &LimitsConfig::max_connections>, 100000, {1, kMax<uint64_t>}},
     kLive, "whole process; more are closed at accept"},
    {"limits.max_frame_bytes",
     SizeKey<C>{&Member<C, &C::limits, &LimitsConfig::max_frame_bytes>, kMiB, {1, kGiB}}, kLive,
     "largest echo/resp frame and http body"},
    {"limits.max_header_bytes",
     SizeKey<C>{&Member<C, &C::limits, &LimitsConfig::max_header_bytes>, 16 * kKiB, {1, kGiB}},
     kLive, "largest http request head"},
    {"limits.max_connections_per_source",
     CountKey<C, uint64_t>{&Member<C, &C::limits, &LimitsConfig::max_connections_per_source>,
                           0,
                           {0, kMax<uint64_t>, " (0 = no limit)"}},
     kLive, "per client IP and worker; 0 = no limit; more are closed at accept"},
    {"limits.connection_rate_per_source",
     CountKey<C, uint64_t>{&Member<C, &C::limits, &LimitsConfig::connection_rate_per_source>,
                           0,
                           {0, kMax<uint64_t>, " (0 = no limit)"}},
     kLive, "new connections per second per client IP and worker; 0 = no limit"},
    {"limits.max_memory",
     SizeKey<C>{&Member<C, &C::limits, &LimitsConfig::max_memory>, 0,
                {0, kMax<uint64_t>, " (0 = 8 x worker_budget x workers)"}},
     kLive,
     "bytes held for peers (input buffers and queued output) by the whole process; at the limit "
     "the largest stalled holders are shed (memory_pressure); 0 = 8 x worker_budget x workers"},
    {"limits.max_delay",
     DurationKey<C>{&Member<C, &C::limits, &LimitsConfig::max_delay>, absl::Seconds(5),
                    {absl::ZeroDuration(), MaxConfigDuration()}},
     kLive, "longest http GET /delay/DURATION; keep it below timeouts.read"},
    {"limits.max_connection_age",
     DurationKey<C>{&Member<C, &C::limits, &LimitsConfig::max_connection_age>,
                    absl::ZeroDuration(),
                    {absl::ZeroDuration(), MaxConfigDuration(), " (0s = none)"}},
     kLive,
     "end a connection this old gracefully at a request boundary (max_age); 0s = none; applies "
     "to connections accepted after a reload"},
    {"limits.max_connection_age_jitter",
     PercentKey<C>{&Member<C, &C::limits, &LimitsConfig::max_connection_age_jitter_percent>, 10,
                   {0, 100}},
     kLive, "percent of max_connection_age added at random per connection, so closes spread"},
    {"limits.max_requests_per_connection",
     CountKey<C, uint64_t>{&Member<C, &C::limits, &LimitsConfig::max_requests_per_connection>,
                           0,
                           {0, kMax<uint64_t>, " (0 = no limit)"}},
     kLive, "end a connection gracefully after this many requests (max_age); 0 = no limit"},
    {"timeouts.idle",
     DurationKey<C>{&Member<C, &C::timeouts, &TimeoutsConfig::idle>, absl::Seconds(60),
                    kPositiveDuration},
     kLive, "close a connection idle this long; 2562047h (the maximum) = never"},
    {"timeouts.read",
     DurationKey<C>{&Member<C, &C::timeouts, &TimeoutsConfig::read>, absl::Seconds(10),
                    kPositiveDuration},
     kLive, "a started frame or request must complete in this; bounds lingering"},
    {"timeouts.write",
     DurationKey<C>{&Member<C, &C::timeouts, &TimeoutsConfig::write>, absl::Seconds(30),
                    kPositiveDuration},
     kLive, "queued output must make progress in this; 2562047h = never"},
    {"timeouts.drain",
     DurationKey<C>{&Member<C, &C::timeouts, &TimeoutsConfig::drain>, absl::Seconds(10),
                    kPositiveDuration},
     kLive, "graceful shutdown deadline; 2562047h = never"},
    // epoll_wait has millisecond resolution, so a finer tick would only spin.
    {"timeouts.tick",
     DurationKey<C>{&Member<C, &C::timeouts, &TimeoutsConfig::tick>,
                    absl::Milliseconds(10),
                    {absl::Milliseconds(1), absl::Seconds(1)}},
     kRestart, "timer wheel resolution"},
    {"backpressure.high_watermark",
     SizeKey<C>{&Member<C, &C::backpressure, &BackpressureConfig::high_watermark>, kMiB, kAnySize},
     kLive, "per connection: stop reading above it"},
    {"backpressure.low_watermark",
     SizeKey<C>{&Member<C, &C::backpressure, &BackpressureConfig::low_watermark>, 256 * kKiB,
                kAnySize},
     kLive, "resume reading below it; < high_watermark"},
    {"backpressure.worker_budget",
     SizeKey<C>{&Member<C, &C::backpressure, &BackpressureConfig::worker_budget>, 256 * kMiB,
                kAnySize},
     kLive, "all output queued on a worker; >= high_watermark"},
    {"socket.tcp_nodelay", BoolKey<C>{&Member<C, &C::socket, &SocketConfig::tcp_nodelay>, true},
     kRestart, "TCP_NODELAY on accepted connections"},
    {"socket.keepalive", BoolKey<C>{&Member<C, &C::socket, &SocketConfig::keepalive>, true},
     kRestart, "SO_KEEPALIVE on accepted connections"},
    {"socket.rcvbuf",
     SizeKey<C>{&Member<C, &C::socket, &SocketConfig::rcvbuf>, 0, kSocketBuffer, true}, kRestart,
     "SO_RCVBUF; 0 = kernel default"},
    {"socket.sndbuf",
     SizeKey<C>{&Member<C, &C::socket, &SocketConfig::sndbuf>, 0, kSocketBuffer, true}, kRestart,
     "SO_SNDBUF; 0 = kernel default"},
    {"admin.address",
     StringKey<C>{&Member<C, &C::admin, &AdminConfig::address>, "127.0.0.1:9100",
                  StringRule::kSocketAddress},
     kRestart, "/metrics /healthz /readyz /config"},
    {"admin.tls.certificate",
     StringKey<C>{&Member<C, &C::admin, &AdminConfig::tls, &ListenerTlsConfig::certificate>, ""},
     kRestart, kTlsCertificateDoc},
    {"admin.tls.private_key",
     StringKey<C>{&Member<C, &C::admin, &AdminConfig::tls, &ListenerTlsConfig::private_key>, ""},
     kRestart, kTlsPrivateKeyDoc},
    {"admin.tls.min_version",
     ChoiceKey<C>{"TLS version", &TlsVersionNames,
                  &EnumChoice<&TlsVersionNames, C, &C::admin, &AdminConfig::tls,
                              &ListenerTlsConfig::min_version>::Get,
                  &EnumChoice<&TlsVersionNames, C, &C::admin, &AdminConfig::tls,
                              &ListenerTlsConfig::min_version>::Set,
                  "1.2"},
     kRestart, kTlsMinVersionDoc},
    {"admin.tls.alpn",
     StringListKey<C>{&Member<C, &C::admin, &AdminConfig::tls, &ListenerTlsConfig::alpn>},
     kRestart, kTlsAlpnDoc},
    {"logging.level",
     StringKey<C>{&Member<C, &C::logging, &LoggingConfig::level>, "info", StringRule::kOneOfNames,
                  false, "level", &LogLevelNames},
     kLive, "least severe level logged"},
    {"logging.format",
     ChoiceKey<C>{"log format", &LogFormatNames,
                  &EnumChoice<&LogFormatNames, C, &C::logging, &LoggingConfig::format>::Get,
                  &EnumChoice<&LogFormatNames, C, &C::logging, &LoggingConfig::format>::Set,
                  "text"},
     kRestart, "one message per line"},
};

const Key<ListenerConfig> kListenerKeys[] = {
    {"name", StringKey<L>{&Member<L, &L::name>, "", StringRule::kListenerName, true}, kRestart,
     "required, unique; 1-64 of A-Z a-z 0-9 _ . -"},
    {"address", StringKey<L>{&Member<L, &L::address>, "", StringRule::kSocketAddress, true},
     kRestart, "required; IPv4:port or [IPv6]:port"},
    {"protocol",
     ChoiceKey<L>{"protocol", &protocols::Names, &StringChoice<L, &L::protocol>::Get,
                  &StringChoice<L, &L::protocol>::Set, "echo"},
     kRestart, "spoken here"},
    {"backlog", CountKey<L, int>{&Member<L, &L::backlog>, 4096, {1, kMax<int>}}, kRestart,
     "listen(2) backlog"},
    {"reuseport", BoolKey<L>{&Member<L, &L::reuseport>, true}, kRestart,
     "one socket per worker; false = one shared"},
    {"reuseport_join", BoolKey<L>{&Member<L, &L::reuseport_join>, false}, kRestart,
     "share the address with a process already serving it"},
    {"balance",
     ChoiceKey<L>{"balance mode", &BalanceNames, &EnumChoice<&BalanceNames, L, &L::balance>::Get,
                  &EnumChoice<&BalanceNames, L, &L::balance>::Set, "kernel"},
     kRestart,
     "kernel (SO_REUSEPORT hash) | cpu (the receiving CPU's worker; pins workers; needs "
     "reuseport) | least_connections (hand-off to the worker with the fewest)"},
    {"proxy_protocol",
     ChoiceKey<L>{"PROXY protocol mode", &ProxyProtocolNames,
                  &EnumChoice<&ProxyProtocolNames, L, &L::proxy_protocol>::Get,
                  &EnumChoice<&ProxyProtocolNames, L, &L::proxy_protocol>::Set, "off"},
     kRestart, "a PROXY protocol header required first on every connection (off = none)"},
    {"trusted_proxies",
     StringListKey<L>{&Member<L, &L::trusted_proxies>, StringRule::kCidr}, kRestart,
     "CIDRs allowed to send PROXY headers (others: proxy_protocol_error); [] = any source"},
    {"tls.certificate",
     StringKey<L>{&Member<L, &L::tls, &ListenerTlsConfig::certificate>, ""}, kRestart,
     kTlsCertificateDoc},
    {"tls.private_key",
     StringKey<L>{&Member<L, &L::tls, &ListenerTlsConfig::private_key>, ""}, kRestart,
     kTlsPrivateKeyDoc},
    {"tls.min_version",
     ChoiceKey<L>{"TLS version", &TlsVersionNames,
                  &EnumChoice<&TlsVersionNames, L, &L::tls, &ListenerTlsConfig::min_version>::Get,
                  &EnumChoice<&TlsVersionNames, L, &L::tls, &ListenerTlsConfig::min_version>::Set,
                  "1.2"},
     kRestart, kTlsMinVersionDoc},
    {"tls.alpn", StringListKey<L>{&Member<L, &L::tls, &ListenerTlsConfig::alpn>}, kRestart,
     kTlsAlpnDoc},
};

template <typename Record>
void SetDefault(const Key<Record>& key, Record& record) {
  std::visit(
      [&](const auto& field) {
        using Field = std::decay_t<decltype(field)>;
        if constexpr (std::is_same_v<Field, ListenersKey>) {
          if constexpr (std::is_same_v<Record, Config>) field.ref(record) = DefaultListeners();
        } else if constexpr (std::is_same_v<Field, ChoiceKey<Record>>) {
          field.set(record, field.def);
        } else if constexpr (std::is_same_v<Field, StringListKey<Record>>) {
          field.ref(record).clear();
        } else {
          field.ref(record) = field.def;
        }
      },
      key.value);
}

bool SameValue(const Key<Config>& key, const Config& a, const Config& b) {
  return std::visit(
      [&](const auto& field) {
        if constexpr (std::is_same_v<std::decay_t<decltype(field)>, ChoiceKey<Config>>) {
          return field.get(a) == field.get(b);
        } else {
          return Read(field.ref, a) == Read(field.ref, b);
        }
      },
      key.value);
}

void CopyValue(const Key<Config>& key, const Config& from, Config& to) {
  std::visit(
      [&](const auto& field) {
        if constexpr (std::is_same_v<std::decay_t<decltype(field)>, ChoiceKey<Config>>) {
          field.set(to, field.get(from));
        } else {
          field.ref(to) = Read(field.ref, from);
        }
      },
      key.value);
}

}  // namespace

std::span<const Key<Config>> ConfigKeys() { return kConfigKeys; }
std::span<const Key<ListenerConfig>> ListenerKeys() { return kListenerKeys; }

const Key<Config>* FindConfigKey(std::string_view path) {
  for (const Key<Config>& key : kConfigKeys) {
    if (key.path == path) return &key;
  }
  return nullptr;
}

std::string MustNotBeEmpty(const ListenersKey& key) {
  return "must not be empty (give at least one " + std::string(key.item) + ")";
}

ListenerConfig DefaultListener() {
  ListenerConfig listener;
  for (const Key<ListenerConfig>& key : kListenerKeys) SetDefault(key, listener);
  return listener;
}

std::vector<ListenerConfig> DefaultListeners() {
  ListenerConfig echo = DefaultListener();
  echo.name = "echo";
  echo.address = "0.0.0.0:7000";
  return {echo};
}

std::vector<std::string_view> RestartKeysChanged(const Config& running, const Config& next) {
  std::vector<std::string_view> changed;
  for (const Key<Config>& key : kConfigKeys) {
    if (key.reload == Reload::kRestart && !SameValue(key, running, next))
      changed.push_back(key.path);
  }
  return changed;
}

Config WithLiveKeys(const Config& running, const Config& next) {
  Config applied = running;
  for (const Key<Config>& key : kConfigKeys) {
    if (key.reload == Reload::kLive) CopyValue(key, next, applied);
  }
  return applied;
}

std::string JoinPaths(std::span<const std::string_view> paths) {
  std::string out;
  for (std::string_view path : paths) {
    if (!out.empty()) out += ", ";
    out += path;
  }
  return out;
}

std::string DescribeKeys(Reload reload) {
  std::vector<std::string_view> names;
  for (const Key<Config>& key : kConfigKeys) {
    if (key.reload != reload) continue;
    // The outermost section whose keys (nested ones included) all share the mode, else the key.
    std::string_view name = key.path;
    for (std::string_view section = ParentOf(key.path); !section.empty();
         section = ParentOf(section)) {
      bool whole_section =
          std::all_of(std::begin(kConfigKeys), std::end(kConfigKeys), [&](const auto& k) {
            bool inside = k.path.size() > section.size() && k.path.starts_with(section) &&
                          k.path[section.size()] == '.';
            return !inside || k.reload == reload;
          });
      if (whole_section) name = section;
    }
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return JoinPaths(names);
}

std::string_view ParentOf(std::string_view path) {
  size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : path.substr(0, dot);
}

std::string_view LastSegment(std::string_view path) {
  size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

}  // namespace schema

Config Config::Default() {
  Config config;
  for (const schema::Key<Config>& key : schema::ConfigKeys()) schema::SetDefault(key, config);
  return config;
}

}  // namespace shoal::server
