#include "server/config/reader.h"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/socket.h"
#include "server/config/key_tree.h"
#include "server/config/schema.h"
#include "server/config/suggest.h"
#include "server/config/units.h"
#include "server/config/validate.h"
#include "server/config/yaml_node.h"

namespace shoal::server {
namespace schema {
namespace {

// absl::string_view is not std::string_view in this build; keep text in std::string at the
// boundaries with absl.
std::string Str(std::string_view s) { return std::string(s); }

using u128 = unsigned __int128;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string JoinPath(std::string_view parent, std::string_view key) {
  return parent.empty() ? Str(key) : absl::StrCat(Str(parent), ".", Str(key));
}

// True if `path` is `prefix` or lies inside it ("listeners[0]" contains "listeners[0].name").
bool PathWithin(std::string_view path, std::string_view prefix) {
  if (path.size() < prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '.' || path[prefix.size()] == '[';
}

// The parent of a key path: "a.b" -> "a", "a[1]" -> "a", "a" -> "".
std::string ParentPath(std::string_view path) {
  size_t cut = path.find_last_of(".[");
  return cut == std::string_view::npos ? std::string() : Str(path.substr(0, cut));
}

constexpr size_t kMaxReportedErrors = 100;

class Parser {
 public:
  explicit Parser(std::string_view file_name) : file_name_(file_name) {}

  absl::StatusOr<Config> Parse(std::string_view yaml_text);

 private:
  using Handler = std::function<void(const std::string& key, const YAML::Node& value,
                                     const YAML::Mark& mark, const std::string& path)>;

  std::string Where(const YAML::Mark& mark) const {
    int line = mark.is_null() ? 0 : mark.line;
    int column = mark.is_null() ? 0 : mark.column;
    return absl::StrCat(file_name_, ":", line + 1, ":", column + 1);
  }

  // Reports an error at `mark` about `path` ("" = the document) and remembers that `path` failed.
  void Fail(const YAML::Mark& mark, const std::string& path, std::string_view message) {
    if (!path.empty()) failed_.push_back(path);
    AddError(mark, path, message);
  }
  // One line per error, whatever bytes the file's keys (in paths) and values (echoed in
  // messages) hold.
  void AddError(const YAML::Mark& mark, std::string_view path, std::string_view message) {
    std::string line = Where(mark) + ": ";
    if (!path.empty()) {
      AppendOneLine(&line, path);
      line += ": ";
    }
    AppendOneLine(&line, message);
    errors_.push_back(std::move(line));
  }

  void ParseRoot(const YAML::Node& root, Config* config);
  // The keys of `section` ("" = the top level) and, recursively, its sections.
  void ReadSection(const YAML::Node& node, const YAML::Mark& mark, const std::string& section,
                   Config* config);
  bool WalkMap(const YAML::Node& node, const YAML::Mark& mark, const std::string& path,
               std::span<const std::string_view> known, const Handler& handle);
  template <typename Record>
  void ReadValue(const Key<Record>& key, const YAML::Node& node, const YAML::Mark& mark,
                 const std::string& path, Record* record);
  void ReadListeners(const ListenersKey& field, const YAML::Node& node, const YAML::Mark& mark,
                     const std::string& path, Config* config);

  // Scalar readers: each reports its own error and returns nothing on failure.
  std::optional<std::string> ScalarText(const YAML::Node& node, const YAML::Mark& mark,
                                        const std::string& path, std::string_view expected);
  std::optional<bool> ReadBool(const YAML::Node& node, const YAML::Mark& mark,
                               const std::string& path);
  std::optional<int64_t> ReadInteger(const YAML::Node& node, const YAML::Mark& mark,
                                     const std::string& path);
  template <typename Int>
  std::optional<Int> ReadCount(const YAML::Node& node, const YAML::Mark& mark,
                               const std::string& path);
  // A scalar `parse` accepts (ParseSize, ParseDuration); `expected` names it in errors.
  template <typename T>
  std::optional<T> ReadParsed(const YAML::Node& node, const YAML::Mark& mark,
                              const std::string& path, std::string_view expected,
                              absl::StatusOr<T> (*parse)(std::string_view));
  std::optional<std::string> ReadString(const YAML::Node& node, const YAML::Mark& mark,
                                        const std::string& path);
  // "path[i]", with where item i of a list is recorded (the list's own `mark` when it has none).
  std::string MarkItem(const std::string& path, size_t i, const YAML::Node& item,
                       const YAML::Mark& mark, YAML::Mark* item_mark);
  // A list of strings ("[]" or nothing: empty); each item's position is kept for the checks.
  std::optional<std::vector<std::string>> ReadStringList(const YAML::Node& node,
                                                         const YAML::Mark& mark,
                                                         const std::string& path);
  // Reads one of `names`.
  std::optional<std::string_view> ReadChoice(const YAML::Node& node, const YAML::Mark& mark,
                                             const std::string& path, std::string_view what,
                                             std::span<const std::string_view> names);

  void RunChecks(const Config& config);

  std::string file_name_;
  std::string text_;
  std::vector<std::string> errors_;
  std::vector<std::string> failed_;          // paths whose value could not be used
  std::map<std::string, YAML::Mark> marks_;  // path -> position of its value in the file
};

absl::StatusOr<Config> Parser::Parse(std::string_view yaml_text) {
  Config config = Config::Default();
  try {
    text_ = Str(yaml_text);
    // Drop a UTF-8 byte order mark here so that positions index text_ (see PrecedingDash).
    if (text_.starts_with("\xEF\xBB\xBF")) text_.erase(0, 3);
    DocumentScan documents = ScanDocuments(text_);
    if (documents.stuck) {
      const size_t pos = static_cast<size_t>(documents.stuck->pos);
      return absl::InvalidArgumentError(
          absl::StrCat(Where(*documents.stuck), ": YAML syntax error: unexpected '",
                       OneLine(pos < text_.size() ? text_.substr(pos, 1) : std::string()), "'"));
    }
    if (documents.roots.size() > 1) {
      Fail(documents.roots[1], "", "more than one YAML document (a config file holds one)");
    }
    if (!documents.starts.empty()) ParseRoot(YAML::Load(text_), &config);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(e.mark), ": YAML syntax error: ", OneLine(e.msg)));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name_, ": cannot parse YAML: ", OneLine(e.what())));
  }
  RunChecks(config);
  if (errors_.empty()) return config;
  if (errors_.size() > kMaxReportedErrors) {
    size_t more = errors_.size() - kMaxReportedErrors;
    errors_.resize(kMaxReportedErrors);
    errors_.push_back(absl::StrCat(file_name_, ": ... and ", more, " more errors"));
  }
  return absl::InvalidArgumentError(absl::StrJoin(errors_, "\n"));
}

void Parser::RunChecks(const Config& config) {
  auto in_file = [&](const std::string& path) { return marks_.count(path) > 0; };
  for (const Issue& issue : CheckConfig(config, in_file)) {
    bool depends_on_failure =
        std::any_of(issue.involves.begin(), issue.involves.end(), [&](const std::string& path) {
          return std::any_of(failed_.begin(), failed_.end(),
                             [&](const std::string& failed) { return PathWithin(path, failed); });
        });
    if (depends_on_failure) continue;
    // The value's own position, else that of the nearest enclosing key, else the file start.
    YAML::Mark mark = YAML::Mark::null_mark();
    for (std::string path = issue.path; !path.empty(); path = ParentPath(path)) {
      auto it = marks_.find(path);
      if (it != marks_.end()) {
        mark = it->second;
        break;
      }
    }
    AddError(mark, issue.path, issue.message);
  }
}

void Parser::ParseRoot(const YAML::Node& root, Config* config) {
  if (root.IsNull()) return;  // only comments, or "---"
  if (!root.IsMap()) {
    Fail(root.Mark(), "",
         absl::StrCat("expected a map of keys at the top level, got ", Describe(root)));
    return;
  }
  ReadSection(root, root.Mark(), "", config);
}

void Parser::ReadSection(const YAML::Node& node, const YAML::Mark& mark, const std::string& section,
                         Config* config) {
  std::vector<std::string_view> known = ChildNames(section);
  WalkMap(node, mark, section, known,
          [&](const std::string&, const YAML::Node& value, const YAML::Mark& value_mark,
              const std::string& path) {
            if (const Key<Config>* key = FindConfigKey(path)) {
              ReadValue(*key, value, value_mark, path, config);
            } else {
              ReadSection(value, value_mark, path, config);
            }
          });
}

template <typename Record>
void Parser::ReadValue(const Key<Record>& key, const YAML::Node& node, const YAML::Mark& mark,
                       const std::string& path, Record* record) {
  std::visit(
      [&](const auto& field) {
        using Field = std::decay_t<decltype(field)>;
        if constexpr (std::is_same_v<Field, DurationKey<Record>>) {
          if (auto value = ReadParsed(node, mark, path, "a duration such as 10s", &ParseDuration)) {
            field.ref(*record) = *value;
          }
        } else if constexpr (std::is_same_v<Field, SizeKey<Record>>) {
          if (auto value = ReadParsed(node, mark, path, "a size such as 64KiB", &ParseSize)) {
            field.ref(*record) = *value;
          }
        } else if constexpr (std::is_same_v<Field, PercentKey<Record>>) {
          if (auto value = ReadParsed(node, mark, path, "a percentage such as 10%", &ParsePercent)) {
            field.ref(*record) = *value;
          }
        } else if constexpr (std::is_same_v<Field, CountKey<Record, int>> ||
                             std::is_same_v<Field, CountKey<Record, uint64_t>>) {
          using Int = std::decay_t<decltype(field.def)>;
          if (auto value = ReadCount<Int>(node, mark, path)) field.ref(*record) = *value;
        } else if constexpr (std::is_same_v<Field, BoolKey<Record>>) {
          if (auto value = ReadBool(node, mark, path)) field.ref(*record) = *value;
        } else if constexpr (std::is_same_v<Field, StringKey<Record>>) {
          if (auto value = ReadString(node, mark, path)) field.ref(*record) = std::move(*value);
        } else if constexpr (std::is_same_v<Field, ChoiceKey<Record>>) {
          if (auto name = ReadChoice(node, mark, path, field.what, field.names())) {
            field.set(*record, *name);
          }
        } else if constexpr (std::is_same_v<Field, StringListKey<Record>>) {
          if (auto items = ReadStringList(node, mark, path)) field.ref(*record) = std::move(*items);
        } else if constexpr (std::is_same_v<Record, Config>) {
          ReadListeners(field, node, mark, path, record);
        }
      },
      key.value);
}

// Checks that `node` is a map (an empty value counts as an empty map: "limits:" with its body
// commented out), then calls `handle` for each known key in order. Returns false if not a map.
bool Parser::WalkMap(const YAML::Node& node, const YAML::Mark& mark, const std::string& path,
                     std::span<const std::string_view> known, const Handler& handle) {
  if (node.IsNull()) return true;
  if (!node.IsMap()) {
    Fail(mark, path, absl::StrCat("expected a map of keys, got ", Describe(node)));
    return false;
  }
  std::map<std::string, YAML::Mark> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key_node = it->first;
    const YAML::Node value = it->second;
    YAML::Mark key_mark = key_node.Mark().is_null() ? mark : key_node.Mark();
    if (!key_node.IsScalar()) {
      Fail(key_mark, path, absl::StrCat("keys must be strings, got ", Describe(key_node)));
      continue;
    }
    const std::string& key = key_node.Scalar();
    std::string key_path = JoinPath(path, key);
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      Fail(key_mark, key_path, absl::StrCat("unknown key", UnknownKeyHint(key, path, known)));
      continue;
    }
    auto [first, inserted] = seen.emplace(key, key_mark);
    if (!inserted) {
      Fail(key_mark, key_path,
           absl::StrCat("duplicate key (first given at line ", first->second.line + 1, ")"));
      continue;
    }
    // An empty value ("idle:") is positioned by yaml-cpp at the next token; point at the key.
    YAML::Mark value_mark = value.Mark();
    if (value_mark.is_null() || (value.IsNull() && value_mark.line != key_mark.line)) {
      value_mark = key_mark;
    }
    marks_[key_path] = value_mark;
    handle(key, value, value_mark, key_path);
  }
  return true;
}

void Parser::ReadListeners(const ListenersKey& field, const YAML::Node& node,
                           const YAML::Mark& mark, const std::string& path, Config* config) {
  const std::string plural = absl::StrCat(Str(field.item), "s");
  if (!node.IsSequence()) {
    Fail(mark, path, absl::StrCat("expected a list of ", plural, ", got ", Describe(node)));
    return;
  }
  if (node.size() == 0) {
    Fail(mark, path, MustNotBeEmpty(field));
    return;
  }
  const std::span<const Key<ListenerConfig>> keys = ListenerKeys();
  // An item's own keys and its nested maps ("tls"), whose keys are "tls.certificate", ...
  std::vector<std::string_view> known;
  for (std::string_view name : KeyNames(keys)) {
    std::string_view top = name.substr(0, name.find('.'));
    if (std::find(known.begin(), known.end(), top) == known.end()) known.push_back(top);
  }
  auto children = [&](std::string_view section) {
    std::vector<std::string_view> names;
    for (const Key<ListenerConfig>& key : keys) {
      if (ParentOf(key.path) == section) names.push_back(LastSegment(key.path));
    }
    return names;
  };
  std::vector<std::string_view> required;
  std::string required_list;  // "name, address"
  for (const Key<ListenerConfig>& key : keys) {
    if (!IsRequired(key)) continue;
    required.push_back(key.path);
    absl::StrAppend(&required_list, required_list.empty() ? "" : ", ", Str(key.path));
  }
  std::vector<ListenerConfig>& out = field.ref(*config);
  out.clear();
  size_t i = 0;
  for (auto it = node.begin(); it != node.end(); ++it, ++i) {
    const YAML::Node item = *it;
    YAML::Mark item_mark;
    std::string item_path = MarkItem(path, i, item, mark, &item_mark);
    ListenerConfig listener = DefaultListener();
    if (item.IsNull()) {  // "- " with nothing after it
      item_mark = PrecedingDash(text_, item_mark);
      marks_[item_path] = item_mark;
      Fail(item_mark, item_path,
           absl::StrCat("expected a map of keys (", required_list, ", ...), got nothing"));
      out.push_back(std::move(listener));
      continue;
    }
    std::vector<std::string_view> given;
    Handler read_key = [&](const std::string& name, const YAML::Node& value,
                           const YAML::Mark& value_mark, const std::string& key_path) {
      std::string_view in_item = std::string_view(key_path).substr(item_path.size() + 1);
      bool leaf = false;
      for (const Key<ListenerConfig>& key : keys) {
        if (key.path != in_item) continue;
        leaf = true;
        given.push_back(key.path);
        ReadValue(key, value, value_mark, key_path, &listener);
      }
      if (!leaf) WalkMap(value, value_mark, key_path, children(in_item), read_key);
      (void)name;
    };
    bool is_map = WalkMap(item, item_mark, item_path, known, read_key);
    for (std::string_view name : required) {
      if (is_map && std::find(given.begin(), given.end(), name) == given.end()) {
        Fail(item_mark, item_path, absl::StrCat("missing required key '", Str(name), "'"));
      }
    }
    out.push_back(std::move(listener));  // keeps indices aligned even for a bad item
  }
}

std::optional<std::string> Parser::ScalarText(const YAML::Node& node, const YAML::Mark& mark,
                                              const std::string& path, std::string_view expected) {
  if (node.IsScalar()) return node.Scalar();
  if (node.IsNull()) {
    Fail(mark, path, absl::StrCat("missing value (expected ", Str(expected), ")"));
  } else {
    Fail(mark, path, absl::StrCat("expected ", Str(expected), ", got ", Describe(node)));
  }
  return std::nullopt;
}

std::optional<bool> Parser::ReadBool(const YAML::Node& node, const YAML::Mark& mark,
                                     const std::string& path) {
  std::optional<std::string> text = ScalarText(node, mark, path, "true or false");
  if (!text) return std::nullopt;
  if (IsPlainScalar(node) && (*text == "true" || *text == "false")) return *text == "true";
  Fail(mark, path,
       absl::StrCat("expected true or false, got ", IsPlainScalar(node) ? "" : "the quoted string ",
                    "'", *text, "'"));
  return std::nullopt;
}

std::optional<int64_t> Parser::ReadInteger(const YAML::Node& node, const YAML::Mark& mark,
                                           const std::string& path) {
  std::optional<std::string> text = ScalarText(node, mark, path, "an integer");
  if (!text) return std::nullopt;
  std::string_view digits = *text;
  bool negative = !digits.empty() && digits.front() == '-';
  if (negative) digits.remove_prefix(1);
  bool well_formed =
      IsPlainScalar(node) && !digits.empty() && std::all_of(digits.begin(), digits.end(), IsDigit);
  if (!well_formed) {
    Fail(mark, path,
         absl::StrCat("expected an integer, got ", IsPlainScalar(node) ? "" : "the quoted string ",
                      "'", *text, "'"));
    return std::nullopt;
  }
  u128 magnitude = 0;
  for (char c : digits) {
    magnitude = magnitude * 10 + static_cast<unsigned>(c - '0');
    if (magnitude > u128{1} << 63) {
      Fail(mark, path, absl::StrCat("integer '", *text, "' is out of range"));
      return std::nullopt;
    }
  }
  if (!negative && magnitude == u128{1} << 63) {
    Fail(mark, path, absl::StrCat("integer '", *text, "' is out of range"));
    return std::nullopt;
  }
  return negative ? static_cast<int64_t>(-static_cast<__int128>(magnitude))
                  : static_cast<int64_t>(magnitude);
}

template <typename Int>
std::optional<Int> Parser::ReadCount(const YAML::Node& node, const YAML::Mark& mark,
                                     const std::string& path) {
  std::optional<int64_t> value = ReadInteger(node, mark, path);
  if (!value) return std::nullopt;
  if (std::is_unsigned_v<Int> && *value < 0) {
    Fail(mark, path, absl::StrCat("must not be negative, got ", *value));
    return std::nullopt;
  }
  if (std::cmp_less(*value, std::numeric_limits<Int>::min()) ||
      std::cmp_greater(*value, std::numeric_limits<Int>::max())) {
    Fail(mark, path, absl::StrCat("integer ", *value, " is out of range"));
    return std::nullopt;
  }
  return static_cast<Int>(*value);
}

template <typename T>
std::optional<T> Parser::ReadParsed(const YAML::Node& node, const YAML::Mark& mark,
                                    const std::string& path, std::string_view expected,
                                    absl::StatusOr<T> (*parse)(std::string_view)) {
  std::optional<std::string> text = ScalarText(node, mark, path, expected);
  if (!text) return std::nullopt;
  absl::StatusOr<T> value = parse(*text);
  if (!value.ok()) {
    Fail(mark, path, std::string(value.status().message()));
    return std::nullopt;
  }
  return *value;
}

std::optional<std::string> Parser::ReadString(const YAML::Node& node, const YAML::Mark& mark,
                                              const std::string& path) {
  return ScalarText(node, mark, path, "a string");
}

std::string Parser::MarkItem(const std::string& path, size_t i, const YAML::Node& item,
                             const YAML::Mark& mark, YAML::Mark* item_mark) {
  std::string item_path = absl::StrCat(path, "[", i, "]");
  *item_mark = item.Mark().is_null() ? mark : item.Mark();
  marks_[item_path] = *item_mark;
  return item_path;
}

std::optional<std::vector<std::string>> Parser::ReadStringList(const YAML::Node& node,
                                                              const YAML::Mark& mark,
                                                              const std::string& path) {
  std::vector<std::string> items;
  if (node.IsNull()) return items;
  if (!node.IsSequence()) {
    Fail(mark, path, absl::StrCat("expected a list of strings, got ", Describe(node)));
    return std::nullopt;
  }
  size_t i = 0;
  for (auto it = node.begin(); it != node.end(); ++it, ++i) {
    const YAML::Node item = *it;
    YAML::Mark item_mark;
    std::string item_path = MarkItem(path, i, item, mark, &item_mark);
    std::optional<std::string> text = ReadString(item, item_mark, item_path);
    if (!text) return std::nullopt;
    items.push_back(std::move(*text));
  }
  return items;
}

std::optional<std::string_view> Parser::ReadChoice(const YAML::Node& node, const YAML::Mark& mark,
                                                   const std::string& path, std::string_view what,
                                                   std::span<const std::string_view> names) {
  std::optional<std::string> text =
      ScalarText(node, mark, path, absl::StrCat(Str(what), " ", Alternatives(names)));
  if (!text) return std::nullopt;
  auto it = std::find(names.begin(), names.end(), *text);
  if (it != names.end()) return *it;
  Fail(mark, path, UnknownName(what, *text, names));
  return std::nullopt;
}

}  // namespace
}  // namespace schema

absl::StatusOr<Config> ParseConfig(std::string_view yaml_text, std::string_view file_name) {
  return schema::Parser(file_name).Parse(yaml_text);
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  auto error = [&](int err) {
    return absl::Status(absl::ErrnoToStatusCode(err),
                        absl::StrCat("cannot read config file '", path, "': ", std::strerror(err)));
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return error(errno);
  core::ScopedFd file(fd);
  std::string text;
  constexpr size_t kMaxConfigBytes = size_t{16} << 20;
  char chunk[16384];
  while (true) {
    ssize_t n = ::read(file.get(), chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      return error(errno);
    }
    if (n == 0) break;
    text.append(chunk, static_cast<size_t>(n));
    if (text.size() > kMaxConfigBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read config file '", path, "': larger than 16MiB"));
    }
  }
  return ParseConfig(text, path);
}

}  // namespace shoal::server
