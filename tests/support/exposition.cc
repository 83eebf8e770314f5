#include "tests/support/exposition.h"

#include <cmath>
#include <cstdlib>
#include <sstream>

namespace shoal::testing {

namespace {

bool ParseLabels(const std::string& line, size_t& i, std::map<std::string, std::string>& labels) {
  // At '{'.
  ++i;
  while (i < line.size() && line[i] != '}') {
    size_t eq = line.find('=', i);
    if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return false;
    std::string name = line.substr(i, eq - i);
    std::string value;
    i = eq + 2;
    for (;;) {
      if (i >= line.size()) return false;
      char c = line[i++];
      if (c == '"') break;
      if (c == '\\') {
        if (i >= line.size()) return false;
        char e = line[i++];
        if (e == 'n') {
          value += '\n';
        } else if (e == '\\' || e == '"') {
          value += e;
        } else {
          return false;
        }
      } else {
        value += c;
      }
    }
    if (!labels.emplace(name, value).second) return false;
    if (i < line.size() && line[i] == ',') ++i;
  }
  if (i >= line.size()) return false;
  ++i;  // '}'
  return true;
}

std::optional<double> ParseValue(const std::string& text) {
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text == "NaN") return NAN;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

Exposition ParseExposition(const std::string& text) {
  Exposition out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, kind, name;
      words >> hash >> kind >> name;
      std::string rest;
      std::getline(words, rest);
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      if (kind == "TYPE") out.types[name] = rest;
      if (kind == "HELP") out.helps[name] = rest;
      continue;
    }
    Sample sample;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    sample.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{' && !ParseLabels(line, i, sample.labels)) {
      out.errors.push_back(line);
      continue;
    }
    if (i >= line.size() || line[i] != ' ') {
      out.errors.push_back(line);
      continue;
    }
    std::string value_text = line.substr(i + 1);
    size_t space = value_text.find(' ');  // an optional timestamp follows
    auto value = ParseValue(value_text.substr(0, space));
    if (!value) {
      out.errors.push_back(line);
      continue;
    }
    sample.value = *value;
    out.samples.push_back(std::move(sample));
  }
  return out;
}

std::vector<const Sample*> Exposition::Find(const std::string& name,
                                            const std::map<std::string, std::string>& match) const {
  std::vector<const Sample*> found;
  for (const Sample& sample : samples) {
    if (sample.name != name) continue;
    bool all = true;
    for (const auto& [key, value] : match) {
      auto it = sample.labels.find(key);
      if (it == sample.labels.end() || it->second != value) {
        all = false;
        break;
      }
    }
    if (all) found.push_back(&sample);
  }
  return found;
}

std::optional<double> Exposition::Value(const std::string& name,
                                        const std::map<std::string, std::string>& labels) const {
  for (const Sample& sample : samples) {
    if (sample.name == name && sample.labels == labels) return sample.value;
  }
  return std::nullopt;
}

double Exposition::Sum(const std::string& name,
                       const std::map<std::string, std::string>& match) const {
  double sum = 0;
  for (const Sample* sample : Find(name, match)) sum += sample->value;
  return sum;
}

}  // namespace shoal::testing
