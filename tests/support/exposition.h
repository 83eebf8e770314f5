// Test support: a small parser of the Prometheus text format 0.0.4 (what /metrics serves), so
// tests can assert on sample values by name and labels.
#ifndef SHOAL_TESTS_SUPPORT_EXPOSITION_H_
#define SHOAL_TESTS_SUPPORT_EXPOSITION_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace shoal::testing {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;  // unescaped values
  double value = 0;
};

struct Exposition {
  std::vector<Sample> samples;
  std::map<std::string, std::string> types;  // family name -> "counter", "gauge", ...
  std::map<std::string, std::string> helps;  // family name -> help text
  std::vector<std::string> errors;           // lines that did not parse

  // The samples named `name` whose labels include every pair of `match`.
  std::vector<const Sample*> Find(const std::string& name,
                                  const std::map<std::string, std::string>& match = {}) const;
  // The one sample named `name` with exactly the labels `labels`, if any.
  std::optional<double> Value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const;
  // The sum of Find(name, match).
  double Sum(const std::string& name, const std::map<std::string, std::string>& match = {}) const;
};

Exposition ParseExposition(const std::string& text);

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_EXPOSITION_H_
