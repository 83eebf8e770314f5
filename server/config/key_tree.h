// The schema table seen as a tree of sections: which keys a map in the file may hold, and the
// hint for a key it may not. Pure functions over the static tables; any thread.
#ifndef SHOAL_SERVER_CONFIG_KEY_TREE_H_
#define SHOAL_SERVER_CONFIG_KEY_TREE_H_

#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "server/config/schema.h"

namespace shoal::server::schema {

// The keys directly inside `section` ("" = the top level), in table order: a leaf's last
// segment or a nested section's name.
std::vector<std::string_view> ChildNames(std::string_view section);

// The names of a flat table's keys (ListenerKeys()), in order.
template <typename Record>
std::vector<std::string_view> KeyNames(std::span<const Key<Record>> keys) {
  std::vector<std::string_view> names;
  for (const Key<Record>& key : keys) names.push_back(key.path);
  return names;
}

template <typename Record>
bool IsRequired(const Key<Record>& key) {
  const auto* text = std::get_if<StringKey<Record>>(&key.value);
  return text != nullptr && text->required;
}

// " (did you mean 'X'?)" for an unknown key in the map at `section_path` whose known keys are
// `known`: the closest known key, else the same key in another section ("idle" at the top level
// -> 'timeouts.idle'), else "".
std::string UnknownKeyHint(std::string_view key, std::string_view section_path,
                           std::span<const std::string_view> known);

}  // namespace shoal::server::schema

#endif  // SHOAL_SERVER_CONFIG_KEY_TREE_H_
