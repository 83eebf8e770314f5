#include "server/config/key_tree.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/config/suggest.h"

namespace shoal::server::schema {
namespace {

struct Section {
  std::string_view path;
  std::vector<std::string_view> keys;
};

// The sections a misplaced key may belong to (listener keys are per item, so not offered).
const std::vector<Section>& Sections() {
  static const std::vector<Section>* sections = [] {
    auto* out = new std::vector<Section>{{"", ChildNames("")}};
    for (const Key<Config>& key : ConfigKeys()) {
      std::string_view parent = ParentOf(key.path);
      bool known = std::any_of(out->begin(), out->end(),
                               [&](const Section& section) { return section.path == parent; });
      if (!known) out->push_back({parent, ChildNames(parent)});
    }
    return out;
  }();
  return *sections;
}

}  // namespace

std::vector<std::string_view> ChildNames(std::string_view section) {
  std::vector<std::string_view> names;
  for (const Key<Config>& key : ConfigKeys()) {
    std::string_view rest = key.path;
    if (!section.empty()) {
      if (!rest.starts_with(section) || rest.substr(section.size(), 1) != ".") continue;
      rest.remove_prefix(section.size() + 1);
    }
    std::string_view name = rest.substr(0, rest.find('.'));
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

std::string UnknownKeyHint(std::string_view key, std::string_view section_path,
                           std::span<const std::string_view> known) {
  if (auto close = Closest(key, known)) return DidYouMean(*close);
  // A key of another section written in the wrong place: "idle" at the top level.
  std::string lower = Lower(key);
  for (const Section& section : Sections()) {
    if (section.path == section_path) continue;
    for (std::string_view candidate : section.keys) {
      if (candidate != lower) continue;
      return DidYouMean(section.path.empty()
                            ? std::string(candidate)
                            : absl::StrCat(std::string(section.path), ".", std::string(candidate)));
    }
  }
  return "";
}

}  // namespace shoal::server::schema
