#include "server/config.h"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/socket.h"

namespace shoal::server {
namespace {

// absl::string_view is not std::string_view in this build; keep text in std::string at the
// boundaries with absl.
std::string Str(std::string_view s) { return std::string(s); }

using u128 = unsigned __int128;

// ---------------------------------------------------------------------------------------------
// Units.

constexpr std::string_view kDurationExpected = "(expected a number with a unit: 250ms, 10s, 5m)";
constexpr std::string_view kSizeExpected =
    "(expected bytes or an integer with a unit: 4096, 64KiB, 1MiB, 1GiB)";

constexpr int64_t kNanosPerHour = int64_t{3600} * 1000 * 1000 * 1000;
constexpr int64_t kNanosPerMinute = int64_t{60} * 1000 * 1000 * 1000;

struct DurationUnit {
  std::string_view name;
  int64_t nanos;
  int rank;  // units of a compound duration must have strictly increasing rank
};
constexpr std::array<DurationUnit, 8> kDurationUnits = {{
    {"h", kNanosPerHour, 0},
    {"m", kNanosPerMinute, 1},
    {"s", 1000 * 1000 * 1000, 2},
    {"ms", 1000 * 1000, 3},
    {"us", 1000, 4},
    {"\xC2\xB5s", 1000, 4},  // µs, MICRO SIGN
    {"\xCE\xBCs", 1000, 4},  // μs, GREEK SMALL LETTER MU
    {"ns", 1, 5},
}};

struct SizeUnit {
  std::string_view name;
  uint64_t bytes;
};
constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = kKiB * 1024;
constexpr uint64_t kGiB = kMiB * 1024;
constexpr uint64_t kTiB = kGiB * 1024;
constexpr std::array<SizeUnit, 11> kSizeUnits = {{
    {"", 1},
    {"B", 1},
    {"KiB", kKiB},
    {"MiB", kMiB},
    {"GiB", kGiB},
    {"TiB", kTiB},
    {"KB", 1000},
    {"kB", 1000},
    {"MB", 1000 * 1000},
    {"GB", 1000 * 1000 * 1000},
    {"TB", uint64_t{1000} * 1000 * 1000 * 1000},
}};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// ---------------------------------------------------------------------------------------------
// Schema: the keys of each map, for unknown-key detection and "did you mean" hints.

constexpr std::array<std::string_view, 9> kTopKeys = {"workers", "cpu_affinity", "listeners",
                                                      "limits",  "timeouts",     "backpressure",
                                                      "socket",  "admin",        "logging"};
constexpr std::array<std::string_view, 5> kListenerKeys = {"name", "address", "protocol", "backlog",
                                                           "reuseport"};
constexpr std::array<std::string_view, 3> kLimitsKeys = {"max_connections", "max_frame_bytes",
                                                         "max_header_bytes"};
constexpr std::array<std::string_view, 5> kTimeoutsKeys = {"idle", "read", "write", "drain",
                                                           "tick"};
constexpr std::array<std::string_view, 3> kBackpressureKeys = {"high_watermark", "low_watermark",
                                                               "worker_budget"};
constexpr std::array<std::string_view, 4> kSocketKeys = {"tcp_nodelay", "keepalive", "rcvbuf",
                                                         "sndbuf"};
constexpr std::array<std::string_view, 1> kAdminKeys = {"address"};
constexpr std::array<std::string_view, 2> kLoggingKeys = {"level", "format"};

struct Section {
  std::string_view path;
  std::span<const std::string_view> keys;
};
// Sections a misplaced key may belong to (listener keys are per item, so not offered).
const std::array<Section, 7> kSections = {{
    {"", kTopKeys},
    {"limits", kLimitsKeys},
    {"timeouts", kTimeoutsKeys},
    {"backpressure", kBackpressureKeys},
    {"socket", kSocketKeys},
    {"admin", kAdminKeys},
    {"logging", kLoggingKeys},
}};

constexpr std::array<std::string_view, 5> kLogLevels = {"trace", "debug", "info", "warn", "error"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), so "adress" and
// "reuseprot" are both one edit away.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The closest of `candidates` to `word` if it is close enough to be a plausible typo.
std::optional<std::string_view> Closest(std::string_view word,
                                        std::span<const std::string_view> candidates) {
  std::string lower = Lower(word);
  std::optional<std::string_view> best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (std::string_view candidate : candidates) {
    size_t allowed = candidate.size() <= 4 ? 1 : candidate.size() <= 8 ? 2 : 3;
    // The distance is at least the difference in length: skip the O(length * length) table when
    // that alone is too far (a key of megabytes took seconds and hundreds of MiB per candidate).
    size_t gap = lower.size() > candidate.size() ? lower.size() - candidate.size()
                                                 : candidate.size() - lower.size();
    if (gap > allowed) continue;
    size_t distance = EditDistance(lower, candidate);
    if (distance <= allowed && distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

// " (did you mean 'X'?)" for an unknown key at `section_path` whose known keys are `known`, or "".
std::string UnknownKeyHint(std::string_view key, std::string_view section_path,
                           std::span<const std::string_view> known) {
  if (auto close = Closest(key, known)) return absl::StrCat(" (did you mean '", Str(*close), "'?)");
  // A key of another section written in the wrong place: "idle" at the top level.
  std::string lower = Lower(key);
  for (const Section& section : kSections) {
    if (section.path == section_path) continue;
    for (std::string_view candidate : section.keys) {
      if (candidate != lower) continue;
      std::string full = section.path.empty()
                             ? Str(candidate)
                             : absl::StrCat(Str(section.path), ".", Str(candidate));
      return absl::StrCat(" (did you mean '", full, "'?)");
    }
  }
  return "";
}

// Appends `text` with a line feed spelled "\\n" and other control characters as '?', so that an
// error about any bytes stays on one line.
void AppendOneLine(std::string* out, std::string_view text) {
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n') {
      *out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      *out += '?';
    } else {
      *out += c;
    }
  }
}

std::string OneLine(std::string_view text) {
  std::string out;
  AppendOneLine(&out, text);
  return out;
}

// "a, b or c".
std::string Alternatives(std::span<const std::string_view> names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

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

// ---------------------------------------------------------------------------------------------
// Semantic checks, shared by ParseConfig (which adds file positions) and ValidateConfig.

struct Issue {
  std::string path;                   // the key the message is about
  std::string message;                // without the path
  std::vector<std::string> involves;  // every key the check read (the check is skipped if any
                                      // of them failed to parse)
};

constexpr int kMaxWorkers = 1024;
constexpr uint64_t kMaxFrameBytes = uint64_t{1} << 30;
constexpr uint64_t kMaxHeaderBytes = uint64_t{1} << 30;
constexpr size_t kMaxListenerNameLength = 64;

bool ValidListenerName(std::string_view name) {
  if (name.empty() || name.size() > kMaxListenerNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

// `in_file(path)` says whether a key was written in the file; a cross-field error is reported at
// a key the user wrote rather than at one left to its default.
std::vector<Issue> CheckConfig(const Config& config,
                               const std::function<bool(const std::string&)>& in_file) {
  std::vector<Issue> issues;
  auto add = [&](std::string path, std::string message, std::vector<std::string> involves = {}) {
    if (involves.empty()) involves.push_back(path);
    issues.push_back({std::move(path), std::move(message), std::move(involves)});
  };
  // The first of `paths` the user wrote, else the first.
  auto pick = [&](std::initializer_list<std::string> paths) {
    for (const std::string& path : paths) {
      if (in_file(path)) return path;
    }
    return *paths.begin();
  };

  if (config.workers < 0 || config.workers > kMaxWorkers) {
    add("workers", absl::StrCat("must be between 0 and ", kMaxWorkers,
                                " (0 = one per online CPU), got ", config.workers));
  }

  // Listeners, and the addresses they (and the admin endpoint) bind.
  if (config.listeners.empty()) add("listeners", "must not be empty (give at least one listener)");
  std::map<std::string, std::string> name_owner;     // name -> path of its first listener
  std::map<std::string, std::string> address_owner;  // normalized address -> path of the key
  auto check_address = [&](const std::string& path, const std::string& text) {
    absl::StatusOr<core::SocketAddress> address = core::SocketAddress::Parse(text);
    if (!address.ok()) {
      add(path, std::string(address.status().message()));
      return;
    }
    if (address->port() == 0) return;  // ephemeral ports never collide
    auto [it, inserted] = address_owner.emplace(address->ToString(), path);
    if (!inserted) {
      // Report at the key the file sets: the admin default clashing with a listener is the
      // listener's line.
      const std::string& owner = it->second;
      bool swap = !in_file(path) && in_file(owner);
      const std::string& at = swap ? owner : path;
      const std::string& other = swap ? path : owner;
      add(at, absl::StrCat("address ", address->ToString(), " is already used by ", other),
          {path, owner});
    }
  };
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const ListenerConfig& listener = config.listeners[i];
    std::string base = absl::StrCat("listeners[", i, "]");
    std::string name_path = base + ".name";
    if (listener.name.empty()) {
      add(name_path, "must not be empty");
    } else if (!ValidListenerName(listener.name)) {
      add(name_path, absl::StrCat("invalid listener name '", listener.name, "' (use 1 to ",
                                  kMaxListenerNameLength, " of A-Z a-z 0-9 _ . -)"));
    } else {
      auto [it, inserted] = name_owner.emplace(listener.name, name_path);
      if (!inserted) {
        add(name_path,
            absl::StrCat("duplicate listener name '", listener.name, "' (also ", it->second, ")"),
            {name_path, it->second});
      }
    }
    check_address(base + ".address", listener.address);
    if (listener.backlog < 1) {
      add(base + ".backlog", absl::StrCat("must be at least 1, got ", listener.backlog));
    }
  }
  check_address("admin.address", config.admin.address);

  const LimitsConfig& limits = config.limits;
  if (limits.max_connections < 1) add("limits.max_connections", "must be at least 1, got 0");
  if (limits.max_frame_bytes < 1 || limits.max_frame_bytes > kMaxFrameBytes) {
    add("limits.max_frame_bytes",
        absl::StrCat("must be between 1 and 1GiB, got ", FormatConfigSize(limits.max_frame_bytes)));
  }
  if (limits.max_header_bytes < 1 || limits.max_header_bytes > kMaxHeaderBytes) {
    add("limits.max_header_bytes", absl::StrCat("must be between 1 and 1GiB, got ",
                                                FormatConfigSize(limits.max_header_bytes)));
  }

  const TimeoutsConfig& timeouts = config.timeouts;
  const absl::Duration max_duration = absl::Nanoseconds(std::numeric_limits<int64_t>::max());
  for (const auto& [key, value] :
       std::initializer_list<std::pair<const char*, absl::Duration>>{{"idle", timeouts.idle},
                                                                     {"read", timeouts.read},
                                                                     {"write", timeouts.write},
                                                                     {"drain", timeouts.drain}}) {
    std::string path = absl::StrCat("timeouts.", key);
    if (value <= absl::ZeroDuration()) {
      add(path, absl::StrCat("must be greater than 0, got ", FormatConfigDuration(value)));
    } else if (value > max_duration) {
      add(path, absl::StrCat("is out of range, got ", FormatConfigDuration(value)));
    }
  }
  if (timeouts.tick < absl::Milliseconds(1) || timeouts.tick > absl::Seconds(1)) {
    add("timeouts.tick",
        absl::StrCat("must be between 1ms and 1s, got ", FormatConfigDuration(timeouts.tick)));
  }

  const BackpressureConfig& bp = config.backpressure;
  const std::string low = "backpressure.low_watermark";
  const std::string high = "backpressure.high_watermark";
  const std::string budget = "backpressure.worker_budget";
  if (bp.low_watermark >= bp.high_watermark) {
    add(pick({low, high}),
        absl::StrCat("low_watermark (", FormatConfigSize(bp.low_watermark),
                     ") must be less than high_watermark (", FormatConfigSize(bp.high_watermark),
                     ")"),
        {low, high});
  }
  if (bp.high_watermark > bp.worker_budget) {
    add(pick({high, budget}),
        absl::StrCat("high_watermark (", FormatConfigSize(bp.high_watermark),
                     ") must not exceed worker_budget (", FormatConfigSize(bp.worker_budget), ")"),
        {high, budget});
  }

  constexpr uint64_t kMaxSocketBuffer = std::numeric_limits<int32_t>::max();
  if (config.socket.rcvbuf > kMaxSocketBuffer) {
    add("socket.rcvbuf", absl::StrCat("must be at most ", kMaxSocketBuffer, " (0 = kernel default)",
                                      ", got ", config.socket.rcvbuf));
  }
  if (config.socket.sndbuf > kMaxSocketBuffer) {
    add("socket.sndbuf", absl::StrCat("must be at most ", kMaxSocketBuffer, " (0 = kernel default)",
                                      ", got ", config.socket.sndbuf));
  }

  if (std::find(kLogLevels.begin(), kLogLevels.end(), config.logging.level) == kLogLevels.end()) {
    std::string hint;
    if (auto close = Closest(config.logging.level, kLogLevels)) {
      hint = absl::StrCat(" (did you mean '", Str(*close), "'?)");
    } else {
      hint = absl::StrCat(" (expected ", Alternatives(kLogLevels), ")");
    }
    add("logging.level", absl::StrCat("unknown level '", config.logging.level, "'", hint));
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------
// The YAML walker.

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

  // yaml-cpp positions an empty list item at the token after it; move back to its '-'.
  YAML::Mark PrecedingDash(YAML::Mark mark) const;

  void ParseRoot(const YAML::Node& root, Config* config);
  bool WalkMap(const YAML::Node& node, const YAML::Mark& mark, const std::string& path,
               std::span<const std::string_view> known, const Handler& handle);
  void ParseListeners(const YAML::Node& node, const YAML::Mark& mark, const std::string& path,
                      std::vector<ListenerConfig>* out);

  // Scalar readers: each reports its own error and leaves *out unchanged on failure.
  std::optional<std::string> ScalarText(const YAML::Node& node, const YAML::Mark& mark,
                                        const std::string& path, std::string_view expected);
  void ReadBool(const YAML::Node& node, const YAML::Mark& mark, const std::string& path, bool* out);
  std::optional<int64_t> ReadInteger(const YAML::Node& node, const YAML::Mark& mark,
                                     const std::string& path);
  void ReadInt(const YAML::Node& node, const YAML::Mark& mark, const std::string& path, int* out);
  void ReadCount(const YAML::Node& node, const YAML::Mark& mark, const std::string& path,
                 uint64_t* out);
  void ReadSize(const YAML::Node& node, const YAML::Mark& mark, const std::string& path,
                uint64_t* out);
  void ReadDuration(const YAML::Node& node, const YAML::Mark& mark, const std::string& path,
                    absl::Duration* out);
  void ReadString(const YAML::Node& node, const YAML::Mark& mark, const std::string& path,
                  std::string* out);
  // Reads one of `names`; returns its index.
  std::optional<size_t> ReadChoice(const YAML::Node& node, const YAML::Mark& mark,
                                   const std::string& path, std::string_view what,
                                   std::span<const std::string_view> names);

  void RunChecks(const Config& config);

  std::string file_name_;
  std::string text_;
  std::vector<std::string> errors_;
  std::vector<std::string> failed_;          // paths whose value could not be used
  std::map<std::string, YAML::Mark> marks_;  // path -> position of its value in the file
};

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return absl::StrCat("'", node.Scalar(), "'");
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

bool IsPlainScalar(const YAML::Node& node) { return node.Tag() == "?"; }

// The documents of a YAML stream, from parser events (no nodes built): where each starts, and
// where its root node is (the position YAML::Node::Mark() gives).
class DocumentMarks final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  std::vector<YAML::Mark> roots;

  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnMapEnd() override {}

 private:
  void Node(const YAML::Mark& mark) {
    if (roots.size() < starts.size()) roots.push_back(mark);
  }
};

absl::StatusOr<Config> Parser::Parse(std::string_view yaml_text) {
  Config config = Config::Default();
  try {
    text_ = Str(yaml_text);
    // Drop a UTF-8 byte order mark here so that positions index text_ (see PrecedingDash).
    if (text_.starts_with("\xEF\xBB\xBF")) text_.erase(0, 3);
    // Count the documents with the event parser rather than YAML::LoadAll: yaml-cpp 0.7's
    // LoadAll never returns when a document starts with a stray ',' (the token is never consumed
    // and each round yields another empty document, without end; yaml-cpp issue 1040). Here a
    // document that starts where the previous one did is that stuck token: a syntax error.
    std::istringstream stream(text_);
    YAML::Parser events(stream);
    DocumentMarks documents;
    while (events.HandleNextDocument(documents)) {
      const size_t n = documents.starts.size();
      if (n >= 2 && documents.starts[n - 1].pos == documents.starts[n - 2].pos) {
        const YAML::Mark& at = documents.starts[n - 1];
        const size_t pos = static_cast<size_t>(at.pos);
        return absl::InvalidArgumentError(absl::StrCat(
            Where(at), ": YAML syntax error: unexpected '",
            OneLine(pos < text_.size() ? text_.substr(pos, 1) : std::string()), "'"));
      }
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

YAML::Mark Parser::PrecedingDash(YAML::Mark mark) const {
  if (mark.is_null() || mark.pos < 0 || static_cast<size_t>(mark.pos) > text_.size()) return mark;
  size_t p = static_cast<size_t>(mark.pos);
  int line = mark.line;
  while (p > 0 && (text_[p - 1] == ' ' || text_[p - 1] == '\t' || text_[p - 1] == '\r' ||
                   text_[p - 1] == '\n')) {
    if (text_[p - 1] == '\n') --line;
    --p;
  }
  if (p == 0 || text_[p - 1] != '-') return mark;
  size_t dash = p - 1;
  size_t newline = text_.rfind('\n', dash);
  YAML::Mark result = mark;
  result.pos = static_cast<int>(dash);
  result.line = line;
  result.column = static_cast<int>(newline == std::string::npos ? dash : dash - newline - 1);
  return result;
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
  WalkMap(root, root.Mark(), "", kTopKeys,
          [&](const std::string& key, const YAML::Node& value, const YAML::Mark& mark,
              const std::string& path) {
            if (key == "workers") {
              ReadInt(value, mark, path, &config->workers);
            } else if (key == "cpu_affinity") {
              ReadBool(value, mark, path, &config->cpu_affinity);
            } else if (key == "listeners") {
              ParseListeners(value, mark, path, &config->listeners);
            } else if (key == "limits") {
              LimitsConfig& limits = config->limits;
              WalkMap(value, mark, path, kLimitsKeys,
                      [&](const std::string& key, const YAML::Node& value, const YAML::Mark& mark,
                          const std::string& path) {
                        if (key == "max_connections")
                          ReadCount(value, mark, path, &limits.max_connections);
                        if (key == "max_frame_bytes")
                          ReadSize(value, mark, path, &limits.max_frame_bytes);
                        if (key == "max_header_bytes")
                          ReadSize(value, mark, path, &limits.max_header_bytes);
                      });
            } else if (key == "timeouts") {
              TimeoutsConfig& timeouts = config->timeouts;
              WalkMap(value, mark, path, kTimeoutsKeys,
                      [&](const std::string& key, const YAML::Node& value, const YAML::Mark& mark,
                          const std::string& path) {
                        if (key == "idle") ReadDuration(value, mark, path, &timeouts.idle);
                        if (key == "read") ReadDuration(value, mark, path, &timeouts.read);
                        if (key == "write") ReadDuration(value, mark, path, &timeouts.write);
                        if (key == "drain") ReadDuration(value, mark, path, &timeouts.drain);
                        if (key == "tick") ReadDuration(value, mark, path, &timeouts.tick);
                      });
            } else if (key == "backpressure") {
              BackpressureConfig& bp = config->backpressure;
              WalkMap(value, mark, path, kBackpressureKeys,
                      [&](const std::string& key, const YAML::Node& value, const YAML::Mark& mark,
                          const std::string& path) {
                        if (key == "high_watermark")
                          ReadSize(value, mark, path, &bp.high_watermark);
                        if (key == "low_watermark") ReadSize(value, mark, path, &bp.low_watermark);
                        if (key == "worker_budget") ReadSize(value, mark, path, &bp.worker_budget);
                      });
            } else if (key == "socket") {
              SocketConfig& socket = config->socket;
              WalkMap(value, mark, path, kSocketKeys,
                      [&](const std::string& key, const YAML::Node& value, const YAML::Mark& mark,
                          const std::string& path) {
                        if (key == "tcp_nodelay") ReadBool(value, mark, path, &socket.tcp_nodelay);
                        if (key == "keepalive") ReadBool(value, mark, path, &socket.keepalive);
                        if (key == "rcvbuf") ReadSize(value, mark, path, &socket.rcvbuf);
                        if (key == "sndbuf") ReadSize(value, mark, path, &socket.sndbuf);
                      });
            } else if (key == "admin") {
              WalkMap(value, mark, path, kAdminKeys,
                      [&](const std::string& key, const YAML::Node& value, const YAML::Mark& mark,
                          const std::string& path) {
                        if (key == "address") ReadString(value, mark, path, &config->admin.address);
                      });
            } else if (key == "logging") {
              LoggingConfig& logging = config->logging;
              WalkMap(
                  value, mark, path, kLoggingKeys,
                  [&](const std::string& key, const YAML::Node& value, const YAML::Mark& mark,
                      const std::string& path) {
                    if (key == "level") ReadString(value, mark, path, &logging.level);
                    if (key == "format") {
                      static constexpr std::array<std::string_view, 2> kFormats = {"text", "json"};
                      if (auto index = ReadChoice(value, mark, path, "log format", kFormats)) {
                        logging.format = *index == 0 ? LogFormat::kText : LogFormat::kJson;
                      }
                    }
                  });
            }
          });
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

void Parser::ParseListeners(const YAML::Node& node, const YAML::Mark& mark, const std::string& path,
                            std::vector<ListenerConfig>* out) {
  if (!node.IsSequence()) {
    Fail(mark, path, absl::StrCat("expected a list of listeners, got ", Describe(node)));
    return;
  }
  if (node.size() == 0) {
    Fail(mark, path, "must not be empty (give at least one listener)");
    return;
  }
  out->clear();
  size_t i = 0;
  for (auto it = node.begin(); it != node.end(); ++it, ++i) {
    const YAML::Node item = *it;
    std::string item_path = absl::StrCat(path, "[", i, "]");
    YAML::Mark item_mark = item.Mark().is_null() ? mark : item.Mark();
    marks_[item_path] = item_mark;
    ListenerConfig listener;
    if (item.IsNull()) {  // "- " with nothing after it
      item_mark = PrecedingDash(item_mark);
      marks_[item_path] = item_mark;
      Fail(item_mark, item_path, "expected a map of keys (name, address, ...), got nothing");
      out->push_back(std::move(listener));
      continue;
    }
    bool has_name = false;
    bool has_address = false;
    bool is_map = WalkMap(
        item, item_mark, item_path, kListenerKeys,
        [&](const std::string& key, const YAML::Node& value, const YAML::Mark& value_mark,
            const std::string& key_path) {
          if (key == "name") {
            has_name = true;
            ReadString(value, value_mark, key_path, &listener.name);
          } else if (key == "address") {
            has_address = true;
            ReadString(value, value_mark, key_path, &listener.address);
          } else if (key == "protocol") {
            static constexpr std::array<std::string_view, 3> kProtocols = {"echo", "http", "resp"};
            if (auto index = ReadChoice(value, value_mark, key_path, "protocol", kProtocols)) {
              listener.protocol = static_cast<ProtocolKind>(*index);
            }
          } else if (key == "backlog") {
            ReadInt(value, value_mark, key_path, &listener.backlog);
          } else if (key == "reuseport") {
            ReadBool(value, value_mark, key_path, &listener.reuseport);
          }
        });
    if (is_map && !has_name) Fail(item_mark, item_path, "missing required key 'name'");
    if (is_map && !has_address) Fail(item_mark, item_path, "missing required key 'address'");
    out->push_back(std::move(listener));  // keeps indices aligned even for a bad item
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

void Parser::ReadBool(const YAML::Node& node, const YAML::Mark& mark, const std::string& path,
                      bool* out) {
  std::optional<std::string> text = ScalarText(node, mark, path, "true or false");
  if (!text) return;
  if (IsPlainScalar(node) && (*text == "true" || *text == "false")) {
    *out = *text == "true";
    return;
  }
  Fail(mark, path,
       absl::StrCat("expected true or false, got ", IsPlainScalar(node) ? "" : "the quoted string ",
                    "'", *text, "'"));
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

void Parser::ReadInt(const YAML::Node& node, const YAML::Mark& mark, const std::string& path,
                     int* out) {
  std::optional<int64_t> value = ReadInteger(node, mark, path);
  if (!value) return;
  if (*value < std::numeric_limits<int>::min() || *value > std::numeric_limits<int>::max()) {
    Fail(mark, path, absl::StrCat("integer ", *value, " is out of range"));
    return;
  }
  *out = static_cast<int>(*value);
}

void Parser::ReadCount(const YAML::Node& node, const YAML::Mark& mark, const std::string& path,
                       uint64_t* out) {
  std::optional<int64_t> value = ReadInteger(node, mark, path);
  if (!value) return;
  if (*value < 0) {
    Fail(mark, path, absl::StrCat("must not be negative, got ", *value));
    return;
  }
  *out = static_cast<uint64_t>(*value);
}

void Parser::ReadSize(const YAML::Node& node, const YAML::Mark& mark, const std::string& path,
                      uint64_t* out) {
  std::optional<std::string> text = ScalarText(node, mark, path, "a size such as 64KiB");
  if (!text) return;
  absl::StatusOr<uint64_t> size = ParseSize(*text);
  if (!size.ok()) {
    Fail(mark, path, std::string(size.status().message()));
    return;
  }
  *out = *size;
}

void Parser::ReadDuration(const YAML::Node& node, const YAML::Mark& mark, const std::string& path,
                          absl::Duration* out) {
  std::optional<std::string> text = ScalarText(node, mark, path, "a duration such as 10s");
  if (!text) return;
  absl::StatusOr<absl::Duration> duration = ParseDuration(*text);
  if (!duration.ok()) {
    Fail(mark, path, std::string(duration.status().message()));
    return;
  }
  *out = *duration;
}

void Parser::ReadString(const YAML::Node& node, const YAML::Mark& mark, const std::string& path,
                        std::string* out) {
  if (std::optional<std::string> text = ScalarText(node, mark, path, "a string")) {
    *out = std::move(*text);
  }
}

std::optional<size_t> Parser::ReadChoice(const YAML::Node& node, const YAML::Mark& mark,
                                         const std::string& path, std::string_view what,
                                         std::span<const std::string_view> names) {
  std::optional<std::string> text =
      ScalarText(node, mark, path, absl::StrCat(Str(what), " ", Alternatives(names)));
  if (!text) return std::nullopt;
  auto it = std::find(names.begin(), names.end(), *text);
  if (it != names.end()) return static_cast<size_t>(it - names.begin());
  std::string hint;
  if (auto close = Closest(*text, names)) {
    hint = absl::StrCat(" (did you mean '", Str(*close), "'?)");
  } else {
    hint = absl::StrCat(" (expected ", Alternatives(names), ")");
  }
  Fail(mark, path, absl::StrCat("unknown ", Str(what), " '", *text, "'", hint));
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// YAML output.

// A double-quoted YAML scalar; safe for any bytes.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string_view Bool(bool value) { return value ? "true" : "false"; }

}  // namespace

// -----------------------------------------------------------------------------------------------
// Public API.

std::string_view ProtocolName(ProtocolKind kind) {
  switch (kind) {
    case ProtocolKind::kEcho:
      return "echo";
    case ProtocolKind::kHttp:
      return "http";
    case ProtocolKind::kResp:
      return "resp";
  }
  return "unknown";
}

std::string_view LogFormatName(LogFormat format) {
  switch (format) {
    case LogFormat::kText:
      return "text";
    case LogFormat::kJson:
      return "json";
  }
  return "unknown";
}

Config Config::Default() {
  Config config;
  ListenerConfig echo;
  echo.name = "echo";
  echo.address = "0.0.0.0:7000";
  config.listeners.push_back(std::move(echo));
  return config;
}

absl::StatusOr<Config> ParseConfig(std::string_view yaml_text, std::string_view file_name) {
  return Parser(file_name).Parse(yaml_text);
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

absl::Status ValidateConfig(const Config& config) {
  std::vector<std::string> lines;
  for (const Issue& issue : CheckConfig(config, [](const std::string&) { return false; })) {
    lines.push_back(absl::StrCat(issue.path, ": ", issue.message));
  }
  if (lines.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

std::string ConfigToYaml(const Config& config) {
  std::string out = "# shoal effective configuration\n";
  absl::StrAppend(&out, "workers: ", config.workers, "\n");
  absl::StrAppend(&out, "cpu_affinity: ", Str(Bool(config.cpu_affinity)), "\n");
  if (config.listeners.empty()) {
    out += "listeners: []\n";
  } else {
    out += "listeners:\n";
    for (const ListenerConfig& listener : config.listeners) {
      absl::StrAppend(&out, "  - name: ", Quote(listener.name), "\n");
      absl::StrAppend(&out, "    address: ", Quote(listener.address), "\n");
      absl::StrAppend(&out, "    protocol: ", Str(ProtocolName(listener.protocol)), "\n");
      absl::StrAppend(&out, "    backlog: ", listener.backlog, "\n");
      absl::StrAppend(&out, "    reuseport: ", Str(Bool(listener.reuseport)), "\n");
    }
  }
  const LimitsConfig& limits = config.limits;
  absl::StrAppend(&out, "limits:\n",                                                         //
                  "  max_connections: ", limits.max_connections, "\n",                       //
                  "  max_frame_bytes: ", FormatConfigSize(limits.max_frame_bytes), "\n",     //
                  "  max_header_bytes: ", FormatConfigSize(limits.max_header_bytes), "\n");  //
  const TimeoutsConfig& timeouts = config.timeouts;
  absl::StrAppend(&out, "timeouts:\n",                                      //
                  "  idle: ", FormatConfigDuration(timeouts.idle), "\n",    //
                  "  read: ", FormatConfigDuration(timeouts.read), "\n",    //
                  "  write: ", FormatConfigDuration(timeouts.write), "\n",  //
                  "  drain: ", FormatConfigDuration(timeouts.drain), "\n",  //
                  "  tick: ", FormatConfigDuration(timeouts.tick), "\n");   //
  const BackpressureConfig& bp = config.backpressure;
  absl::StrAppend(&out, "backpressure:\n",                                          //
                  "  high_watermark: ", FormatConfigSize(bp.high_watermark), "\n",  //
                  "  low_watermark: ", FormatConfigSize(bp.low_watermark), "\n",    //
                  "  worker_budget: ", FormatConfigSize(bp.worker_budget), "\n");   //
  const SocketConfig& socket = config.socket;
  absl::StrAppend(&out, "socket:\n",                                       //
                  "  tcp_nodelay: ", Str(Bool(socket.tcp_nodelay)), "\n",  //
                  "  keepalive: ", Str(Bool(socket.keepalive)), "\n",      //
                  "  rcvbuf: ", FormatConfigSize(socket.rcvbuf), "\n",     //
                  "  sndbuf: ", FormatConfigSize(socket.sndbuf), "\n");    //
  absl::StrAppend(&out, "admin:\n", "  address: ", Quote(config.admin.address), "\n");
  absl::StrAppend(&out, "logging:\n",                              //
                  "  level: ", Quote(config.logging.level), "\n",  //
                  "  format: ", Str(LogFormatName(config.logging.format)), "\n");
  return out;
}

absl::StatusOr<absl::Duration> ParseDuration(std::string_view text) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid duration '", Str(text), "' ", Str(kDurationExpected)));
  };
  if (text.empty()) return invalid();
  if (text.front() == '-') {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid duration '", Str(text), "' (must not be negative)"));
  }
  const u128 max_nanos = static_cast<u128>(std::numeric_limits<int64_t>::max());
  u128 total = 0;
  bool overflow = false;
  int last_rank = -1;
  size_t i = 0;
  while (i < text.size()) {
    // <digits>[.<digits>]
    u128 whole = 0;
    size_t start = i;
    while (i < text.size() && IsDigit(text[i])) {
      if (whole <= max_nanos) whole = whole * 10 + static_cast<unsigned>(text[i] - '0');
      ++i;
    }
    if (i == start) return invalid();
    u128 fraction = 0;
    u128 scale = 1;
    if (i < text.size() && text[i] == '.') {
      size_t fraction_start = ++i;
      while (i < text.size() && IsDigit(text[i])) {
        // Digits beyond 10^-19 of a unit cannot reach a nanosecond; they are ignored.
        if (scale < u128{10000000000000000000u}) {
          fraction = fraction * 10 + static_cast<unsigned>(text[i] - '0');
          scale *= 10;
        }
        ++i;
      }
      if (i == fraction_start) return invalid();
    }
    // <unit>: everything up to the next number.
    size_t unit_start = i;
    while (i < text.size() && !IsDigit(text[i]) && text[i] != '.') ++i;
    std::string_view unit_name = text.substr(unit_start, i - unit_start);
    auto unit = std::find_if(kDurationUnits.begin(), kDurationUnits.end(),
                             [&](const DurationUnit& u) { return u.name == unit_name; });
    if (unit == kDurationUnits.end()) return invalid();
    if (unit->rank <= last_rank) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid duration '", Str(text),
                       "' (units must go from larger to smaller, as in 1h30m)"));
    }
    last_rank = unit->rank;
    if (whole > max_nanos) overflow = true;
    if (!overflow) {
      u128 nanos = static_cast<u128>(unit->nanos);
      total += whole * nanos + fraction * nanos / scale;
      if (total > max_nanos) overflow = true;
    }
  }
  if (overflow) {
    return absl::OutOfRangeError(
        absl::StrCat("duration '", Str(text), "' is out of range (at most 2562047h, ~292 years)"));
  }
  return absl::Nanoseconds(static_cast<int64_t>(total));
}

std::string FormatConfigDuration(absl::Duration duration) {
  if (duration == absl::ZeroDuration()) return "0s";
  if (duration < absl::ZeroDuration() || duration == absl::InfiniteDuration() ||
      duration > absl::Nanoseconds(std::numeric_limits<int64_t>::max())) {
    return absl::FormatDuration(duration);
  }
  int64_t nanos = absl::ToInt64Nanoseconds(duration);
  static constexpr std::array<std::pair<std::string_view, int64_t>, 6> kUnits = {{
      {"h", kNanosPerHour},
      {"m", kNanosPerMinute},
      {"s", 1000 * 1000 * 1000},
      {"ms", 1000 * 1000},
      {"us", 1000},
      {"ns", 1},
  }};
  for (const auto& [name, unit] : kUnits) {
    if (nanos % unit == 0) return absl::StrCat(nanos / unit, Str(name));
  }
  return absl::StrCat(nanos, "ns");  // unreachable: every count is a multiple of 1ns
}

absl::StatusOr<uint64_t> ParseSize(std::string_view text) {
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid size '", Str(text), "' ", Str(kSizeExpected)));
  };
  if (!text.empty() && text.front() == '-') {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid size '", Str(text), "' (must not be negative)"));
  }
  size_t i = 0;
  u128 value = 0;
  const u128 max = std::numeric_limits<uint64_t>::max();
  while (i < text.size() && IsDigit(text[i])) {
    if (value <= max) value = value * 10 + static_cast<unsigned>(text[i] - '0');
    ++i;
  }
  if (i == 0) return invalid();
  std::string_view unit_name = text.substr(i);
  auto unit = std::find_if(kSizeUnits.begin(), kSizeUnits.end(),
                           [&](const SizeUnit& u) { return u.name == unit_name; });
  if (unit == kSizeUnits.end()) return invalid();
  if (value > max || value * unit->bytes > max) {
    return absl::OutOfRangeError(
        absl::StrCat("size '", Str(text), "' is out of range (at most 18446744073709551615)"));
  }
  return static_cast<uint64_t>(value * unit->bytes);
}

std::string FormatConfigSize(uint64_t bytes) {
  if (bytes == 0) return "0";
  static constexpr std::array<std::pair<std::string_view, uint64_t>, 4> kUnits = {{
      {"TiB", kTiB},
      {"GiB", kGiB},
      {"MiB", kMiB},
      {"KiB", kKiB},
  }};
  for (const auto& [name, unit] : kUnits) {
    if (bytes % unit == 0) return absl::StrCat(bytes / unit, Str(name));
  }
  return absl::StrCat(bytes);
}

}  // namespace shoal::server
