#include "server/config/validate.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/cidr.h"
#include "core/socket.h"
#include "server/config/schema.h"
#include "server/config/suggest.h"
#include "server/config/units.h"

namespace shoal::server {
namespace schema {
namespace {

constexpr size_t kMaxListenerNameLength = 64;

bool ValidListenerName(std::string_view name) {
  if (name.empty() || name.size() > kMaxListenerNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

// "must be between 1 and 1GiB, got 0"; `spell` writes a value as the file would.
template <typename T, typename Spell>
std::string OutOfRange(const Range<T>& range, T value, T lowest, T highest, Spell spell) {
  std::string got = absl::StrCat(", got ", spell(value));
  std::string note(range.note);
  bool has_min = range.min > lowest;
  bool has_max = range.max < highest;
  if (has_min && has_max) {
    return absl::StrCat("must be between ", spell(range.min), " and ", spell(range.max), note, got);
  }
  if (has_min) return absl::StrCat("must be at least ", spell(range.min), note, got);
  return absl::StrCat("must be at most ", spell(range.max), note, got);
}

class Checker {
 public:
  explicit Checker(const std::function<bool(const std::string&)>& in_file) : in_file_(in_file) {}

  std::vector<Issue> Run(const Config& config) {
    for (const Key<Config>& key : ConfigKeys()) CheckKey(key, config, std::string(key.path));
    CheckWatermarks(config.backpressure);
    return std::move(issues_);
  }

 private:
  void Add(std::string path, std::string message, std::vector<std::string> involves = {}) {
    if (involves.empty()) involves.push_back(path);
    issues_.push_back({std::move(path), std::move(message), std::move(involves)});
  }

  template <typename Record>
  void CheckKey(const Key<Record>& key, const Record& record, const std::string& path) {
    std::visit([&](const auto& field) { CheckField(field, record, path); }, key.value);
  }

  template <typename Record>
  void CheckField(const DurationKey<Record>& field, const Record& record, const std::string& path) {
    absl::Duration value = Read(field.ref, record);
    if (value >= field.range.min && value <= field.range.max) return;
    std::string got = FormatConfigDuration(value);
    if (field.range.min != absl::Nanoseconds(1) || field.range.max != MaxConfigDuration()) {
      Add(path, OutOfRange(field.range, value, absl::ZeroDuration(), MaxConfigDuration(),
                           FormatConfigDuration));
    } else if (value > MaxConfigDuration()) {
      Add(path, absl::StrCat("is out of range, got ", got));
    } else {
      Add(path, absl::StrCat("must be greater than 0, got ", got));
    }
  }

  template <typename Record>
  void CheckField(const SizeKey<Record>& field, const Record& record, const std::string& path) {
    uint64_t value = Read(field.ref, record);
    if (value >= field.range.min && value <= field.range.max) return;
    auto spell = [&](uint64_t bytes) {
      return field.plain_bytes_in_errors ? absl::StrCat(bytes) : FormatConfigSize(bytes);
    };
    Add(path,
        OutOfRange<uint64_t>(field.range, value, 0, std::numeric_limits<uint64_t>::max(), spell));
  }

  template <typename Record, typename Int>
  void CheckField(const CountKey<Record, Int>& field, const Record& record,
                  const std::string& path) {
    Int value = Read(field.ref, record);
    if (value >= field.range.min && value <= field.range.max) return;
    auto spell = [](Int n) { return absl::StrCat(n); };
    Add(path, OutOfRange<Int>(field.range, value, std::numeric_limits<Int>::lowest(),
                              std::numeric_limits<Int>::max(), spell));
  }

  template <typename Record>
  void CheckField(const PercentKey<Record>& field, const Record& record, const std::string& path) {
    uint64_t value = Read(field.ref, record);
    if (value >= field.range.min && value <= field.range.max) return;
    Add(path, OutOfRange<uint64_t>(field.range, value, 0, std::numeric_limits<uint64_t>::max(),
                                   &FormatConfigPercent));
  }

  template <typename Record>
  void CheckField(const BoolKey<Record>&, const Record&, const std::string&) {}

  template <typename Record>
  void CheckField(const ChoiceKey<Record>&, const Record&, const std::string&) {}

  template <typename Record>
  void CheckField(const StringListKey<Record>& field, const Record& record,
                  const std::string& path) {
    const std::vector<std::string>& items = Read(field.ref, record);
    for (size_t i = 0; i < items.size(); ++i) {
      std::string item_path = absl::StrCat(path, "[", i, "]");
      if (field.rule == StringRule::kCidr) {
        CheckCidr(items[i], item_path);
      } else if (items[i].empty() || items[i].size() > 255) {
        Add(item_path, "must be 1 to 255 bytes");
      }
    }
  }

  template <typename Record>
  void CheckField(const StringKey<Record>& field, const Record& record, const std::string& path) {
    const std::string& value = Read(field.ref, record);
    switch (field.rule) {
      case StringRule::kAny:
        return;
      case StringRule::kListenerName:
        return CheckListenerName(value, path);
      case StringRule::kSocketAddress:
        return CheckAddress(value, path);
      case StringRule::kCidr:
        return CheckCidr(value, path);
      case StringRule::kOneOfNames: {
        std::span<const std::string_view> names = field.names();
        if (std::find(names.begin(), names.end(), value) == names.end()) {
          Add(path, UnknownName(field.what, value, names));
        }
        return;
      }
    }
  }


  void CheckCidr(const std::string& value, const std::string& path) {
    auto range = core::Cidr::Parse(value);
    if (!range.ok()) Add(path, std::string(range.status().message()));
  }

  template <typename Record>
  void CheckField(const ListenersKey& field, const Record& record, const std::string& path) {
    if constexpr (std::is_same_v<Record, Config>) {
      const std::vector<ListenerConfig>& items = Read(field.ref, record);
      if (items.empty()) Add(path, MustNotBeEmpty(field));
      for (size_t i = 0; i < items.size(); ++i) {
        std::string base = absl::StrCat(path, "[", i, "]");
        for (const Key<ListenerConfig>& key : ListenerKeys()) {
          CheckKey(key, items[i], absl::StrCat(base, ".", std::string(key.path)));
        }
      }
    }
  }

  void CheckListenerName(const std::string& name, const std::string& path) {
    if (name.empty()) {
      Add(path, "must not be empty");
    } else if (!ValidListenerName(name)) {
      Add(path, absl::StrCat("invalid listener name '", name, "' (use 1 to ",
                             kMaxListenerNameLength, " of A-Z a-z 0-9 _ . -)"));
    } else {
      auto [it, inserted] = name_owner_.emplace(name, path);
      if (!inserted) {
        Add(path, absl::StrCat("duplicate listener name '", name, "' (also ", it->second, ")"),
            {path, it->second});
      }
    }
  }

  void CheckAddress(const std::string& text, const std::string& path) {
    absl::StatusOr<core::SocketAddress> address = core::SocketAddress::Parse(text);
    if (!address.ok()) {
      Add(path, std::string(address.status().message()));
      return;
    }
    if (address->port() == 0) return;  // ephemeral ports never collide
    auto [it, inserted] = address_owner_.emplace(address->ToString(), path);
    if (inserted) return;
    // Report at the key the file sets: the admin default clashing with a listener is the
    // listener's line.
    const std::string& owner = it->second;
    bool swap = !in_file_(path) && in_file_(owner);
    const std::string& at = swap ? owner : path;
    const std::string& other = swap ? path : owner;
    Add(at, absl::StrCat("address ", address->ToString(), " is already used by ", other),
        {path, owner});
  }

  void CheckWatermarks(const BackpressureConfig& bp) {
    const std::string low = "backpressure.low_watermark";
    const std::string high = "backpressure.high_watermark";
    const std::string budget = "backpressure.worker_budget";
    if (bp.low_watermark >= bp.high_watermark) {
      Add(FirstInFile(low, high),
          absl::StrCat("low_watermark (", FormatConfigSize(bp.low_watermark),
                       ") must be less than high_watermark (", FormatConfigSize(bp.high_watermark),
                       ")"),
          {low, high});
    }
    if (bp.high_watermark > bp.worker_budget) {
      Add(FirstInFile(high, budget),
          absl::StrCat("high_watermark (", FormatConfigSize(bp.high_watermark),
                       ") must not exceed worker_budget (", FormatConfigSize(bp.worker_budget),
                       ")"),
          {high, budget});
    }
  }

  // `first` if the file wrote it or did not write `second`, else `second`.
  const std::string& FirstInFile(const std::string& first, const std::string& second) const {
    return !in_file_(first) && in_file_(second) ? second : first;
  }

  const std::function<bool(const std::string&)>& in_file_;
  std::vector<Issue> issues_;
  std::map<std::string, std::string> name_owner_;     // name -> path of its first listener
  std::map<std::string, std::string> address_owner_;  // normalized address -> path of the key
};

}  // namespace

std::vector<Issue> CheckConfig(const Config& config,
                               const std::function<bool(const std::string&)>& in_file) {
  return Checker(in_file).Run(config);
}

}  // namespace schema

absl::Status ValidateConfig(const Config& config) {
  std::vector<std::string> lines;
  for (const schema::Issue& issue :
       schema::CheckConfig(config, [](const std::string&) { return false; })) {
    lines.push_back(absl::StrCat(issue.path, ": ", issue.message));
  }
  if (lines.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

}  // namespace shoal::server
