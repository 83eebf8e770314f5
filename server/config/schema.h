// The config schema: one row per key. A row names the key's path, its kind (the alternative of
// `Value`: duration, size, count, bool, string, choice, list), its default and bounds, whether a
// SIGHUP reload applies it (live) or only a restart does, a one-line doc, and how to reach the
// member of the struct. Config::Default(), the YAML reader, the range checks, ConfigToYaml, the
// README reference and the live/restart split of a reload all walk these tables; nothing else
// lists the keys.
//
// Listeners are a list of records whose keys are rows of their own table (ListenerKeys()).
// A choice takes its allowed names from a function: listeners[].protocol takes the names of the
// protocol registry (server/protocols/registry.h), so a binary parsing configs links
// //server/protocols:all.
//
// The tables are immutable statics: read them from any thread.
#ifndef SHOAL_SERVER_CONFIG_SCHEMA_H_
#define SHOAL_SERVER_CONFIG_SCHEMA_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "server/config/types.h"

namespace shoal::server::schema {

enum class Reload { kLive, kRestart };

// The member of `record` reached through `kPath` (member pointers, outermost first):
// &Member<Config, &Config::timeouts, &TimeoutsConfig::idle> is a Ref<Config, absl::Duration>.
template <typename Record, auto... kPath>
auto& Member(Record& record) {
  return (record .* ... .* kPath);
}

template <typename Record, typename T>
using Ref = T& (*)(Record&);

// Reads through a Ref; refs only ever select a member, so reading a const record is safe.
template <typename Record, typename T>
const T& Read(Ref<Record, T> ref, const Record& record) {
  return ref(const_cast<Record&>(record));
}

// Inclusive bounds; `note` follows them in the error ("must be at most 2147483647 (0 = kernel
// default), got ...").
template <typename T>
struct Range {
  T min;
  T max;
  std::string_view note = "";
};

template <typename Record>
struct DurationKey {
  Ref<Record, absl::Duration> ref;
  absl::Duration def;
  Range<absl::Duration> range;
};

template <typename Record>
struct SizeKey {
  Ref<Record, uint64_t> ref;
  uint64_t def;
  Range<uint64_t> range;
  bool plain_bytes_in_errors = false;  // "2147483648" rather than "2GiB"
};

// A plain decimal integer in YAML.
template <typename Record, typename Int>
struct CountKey {
  Ref<Record, Int> ref;
  Int def;
  Range<Int> range;
};

// A whole percentage spelled with '%' in YAML ("10%").
template <typename Record>
struct PercentKey {
  Ref<Record, uint64_t> ref;
  uint64_t def;
  Range<uint64_t> range;
};

template <typename Record>
struct BoolKey {
  Ref<Record, bool> ref;
  bool def;
};

// What the semantic checks require of a string beyond being one.
enum class StringRule {
  kAny,
  kListenerName,   // 1-64 of [A-Za-z0-9_.-], unique among listeners
  kSocketAddress,  // core::SocketAddress syntax; a non-zero port used once in the whole config
  kOneOfNames,     // one of names(); checked after parsing, so code may set it too
};

template <typename Record>
struct StringKey {
  Ref<Record, std::string> ref;
  std::string_view def;
  StringRule rule = StringRule::kAny;
  bool required = false;                                   // in a list item: the item must set it
  std::string_view what = "";                              // kOneOfNames: "unknown <what> 'x'"
  std::span<const std::string_view> (*names)() = nullptr;  // kOneOfNames
};

// One of names(), checked while parsing. get/set translate between the member and its name.
template <typename Record>
struct ChoiceKey {
  std::string_view what;  // "unknown <what> 'x'"
  std::span<const std::string_view> (*names)();
  std::string_view (*get)(const Record&);
  void (*set)(Record&, std::string_view name);  // `name` is one of names()
  std::string_view def;
};

// A choice stored as an enum whose values index names().
template <auto kNames, typename Record, auto... kPath>
struct EnumChoice {
  using Enum = std::remove_reference_t<decltype(Member<Record, kPath...>(std::declval<Record&>()))>;
  static std::string_view Get(const Record& record) {
    return kNames()[static_cast<size_t>(Read(&Member<Record, kPath...>, record))];
  }
  static void Set(Record& record, std::string_view name) {
    std::span<const std::string_view> names = kNames();
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) Member<Record, kPath...>(record) = static_cast<Enum>(i);
    }
  }
};

// A choice stored as its name.
template <typename Record, auto... kPath>
struct StringChoice {
  static std::string_view Get(const Record& record) {
    return Read(&Member<Record, kPath...>, record);
  }
  static void Set(Record& record, std::string_view name) {
    Member<Record, kPath...>(record) = std::string(name);
  }
};

// A YAML list of strings ("[http/1.1]"), empty by default.
template <typename Record>
struct StringListKey {
  Ref<Record, std::vector<std::string>> ref;
};

// The listeners: a non-empty list of records with the keys of ListenerKeys().
struct ListenersKey {
  Ref<Config, std::vector<ListenerConfig>> ref;
  std::string_view item;  // "listener"
};

template <typename Record>
using Value = std::variant<DurationKey<Record>, SizeKey<Record>, CountKey<Record, int>,
                           CountKey<Record, uint64_t>, PercentKey<Record>, BoolKey<Record>, StringKey<Record>,
                           ChoiceKey<Record>, StringListKey<Record>, ListenersKey>;

template <typename Record>
struct Key {
  std::string_view path;  // "timeouts.idle"; in ListenerKeys() relative to the item: "backlog"
  Value<Record> value;
  Reload reload;
  std::string_view doc;
};

// In file order (the order of ConfigToYaml and of the README reference).
std::span<const Key<Config>> ConfigKeys();
std::span<const Key<ListenerConfig>> ListenerKeys();

// The row of `path` ("timeouts.idle"), or nullptr.
const Key<Config>* FindConfigKey(std::string_view path);

// "must not be empty (give at least one listener)".
std::string MustNotBeEmpty(const ListenersKey& key);

// The built-in listener list: one listener "echo" on 0.0.0.0:7000 with the listener defaults.
std::vector<ListenerConfig> DefaultListeners();
// A listener with every key of ListenerKeys() at its default (name and address empty).
ListenerConfig DefaultListener();

// A reload: the paths of restart-only keys whose values differ between the two configs, in table
// order, and `running` with every live key taken from `next`.
std::vector<std::string_view> RestartKeysChanged(const Config& running, const Config& next);
Config WithLiveKeys(const Config& running, const Config& next);

// "a, b, c".
std::string JoinPaths(std::span<const std::string_view> paths);
// The keys with `reload`, in table order, a section named once when all its keys have it:
// "limits, timeouts.idle, ..., backpressure, logging.level".
std::string DescribeKeys(Reload reload);

// "a.b.c" -> "a.b"; "a" -> "".
std::string_view ParentOf(std::string_view path);
// "a.b.c" -> "c".
std::string_view LastSegment(std::string_view path);

}  // namespace shoal::server::schema

#endif  // SHOAL_SERVER_CONFIG_SCHEMA_H_
