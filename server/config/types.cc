#include "server/config/types.h"

#include <array>

namespace shoal::server {
namespace {

constexpr std::array<std::string_view, 2> kLogFormatNames = {"text", "json"};
constexpr std::array<std::string_view, 3> kBalanceNames = {"kernel", "cpu", "least_connections"};
constexpr std::array<std::string_view, 4> kProxyProtocolNames = {"off", "v1", "v2", "any"};
constexpr std::array<std::string_view, 2> kTlsVersionNames = {"1.2", "1.3"};
constexpr std::array<std::string_view, 5> kLogLevelNames = {"trace", "debug", "info", "warn",
                                                            "error"};

template <typename Enum, size_t N>
std::string_view NameOf(Enum value, const std::array<std::string_view, N>& names) {
  size_t index = static_cast<size_t>(value);
  return index < names.size() ? names[index] : "unknown";
}

}  // namespace

std::string_view LogFormatName(LogFormat format) { return NameOf(format, kLogFormatNames); }
std::span<const std::string_view> LogFormatNames() { return kLogFormatNames; }

std::span<const std::string_view> BalanceNames() { return kBalanceNames; }

std::span<const std::string_view> ProxyProtocolNames() { return kProxyProtocolNames; }

std::span<const std::string_view> LogLevelNames() { return kLogLevelNames; }

std::span<const std::string_view> TlsVersionNames() { return kTlsVersionNames; }

}  // namespace shoal::server
