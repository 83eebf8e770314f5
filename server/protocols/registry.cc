#include "server/protocols/registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace shoal::protocols {
namespace {

struct Table {
  std::vector<Registration> registrations;  // sorted by name
  std::vector<std::string_view> names;      // the same order
};

Table& TheTable() {
  static Table table;
  return table;
}

}  // namespace

Registrar::Registrar(const Registration& registration) {
  Table& table = TheTable();
  auto at = std::lower_bound(
      table.registrations.begin(), table.registrations.end(), registration.name,
      [](const Registration& entry, std::string_view name) { return entry.name < name; });
  if (at != table.registrations.end() && at->name == registration.name) {
    std::fprintf(stderr, "protocol '%s' registered twice\n", std::string(registration.name).c_str());
    std::abort();
  }
  auto index = at - table.registrations.begin();
  table.registrations.insert(at, registration);
  table.names.insert(table.names.begin() + index, registration.name);
}

const Registration* Find(std::string_view name) {
  for (const Registration& registration : TheTable().registrations) {
    if (registration.name == name) return &registration;
  }
  return nullptr;
}

std::span<const Registration> All() { return TheTable().registrations; }

std::span<const std::string_view> Names() { return TheTable().names; }

}  // namespace shoal::protocols
