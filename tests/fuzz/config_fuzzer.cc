// Fuzz target: shoal::server::ParseConfig (YAML text -> Config, strict), the config loader behind
// --config, --check_config and SIGHUP reloads.
//
// Input: the YAML text itself.
// Invariants:
//  * no crash, hang or escaping exception, whatever the bytes;
//  * an accepted config is valid (ValidateConfig agrees), has at least one listener, and survives
//    the round trip of its contract: ParseConfig(ConfigToYaml(c)) == c;
//  * a rejected config gives InvalidArgument with at least one line, every line
//    "fuzz.yaml:LINE:COLUMN: ..." (or "fuzz.yaml: ..." for the summary line past 100 errors),
//    with no control characters in it: one error per line, whatever the file holds.
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/config.h"
#include "tests/fuzz/fuzz_support.h"

namespace shoal::fuzz {
namespace {

constexpr std::string_view kFileName = "fuzz.yaml";

// "fuzz.yaml:12:3: ..." or "fuzz.yaml: ...".
bool IsErrorLine(std::string_view line) {
  if (!line.starts_with(kFileName)) return false;
  line.remove_prefix(kFileName.size());
  if (line.starts_with(": ")) return true;
  for (int part = 0; part < 2; ++part) {
    if (!line.starts_with(":")) return false;
    line.remove_prefix(1);
    size_t digits = 0;
    while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits]))) ++digits;
    if (digits == 0) return false;
    line.remove_prefix(digits);
  }
  return line.starts_with(": ");
}

bool HasControlCharacter(std::string_view line) {
  for (char c : line) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

}  // namespace

int ConfigFuzzOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<server::Config> config = server::ParseConfig(text, kFileName);
  if (config.ok()) {
    SHOAL_FUZZ_CHECK(!config->listeners.empty());
    SHOAL_FUZZ_CHECK(server::ValidateConfig(*config).ok());
    const std::string yaml = server::ConfigToYaml(*config);
    const absl::StatusOr<server::Config> again = server::ParseConfig(yaml, "round-trip.yaml");
    if (!again.ok()) {
      std::fprintf(stderr, "round trip rejected:\n%s\n--- effective YAML:\n%s\n",
                   std::string(again.status().message()).c_str(), yaml.c_str());
    }
    SHOAL_FUZZ_CHECK(again.ok());
    SHOAL_FUZZ_CHECK(*again == *config);
    return 0;
  }
  SHOAL_FUZZ_CHECK(config.status().code() == absl::StatusCode::kInvalidArgument);
  const std::string message(config.status().message());
  SHOAL_FUZZ_CHECK(!message.empty());
  size_t lines = 0;
  std::string_view rest = message;
  while (true) {
    const size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    if (!IsErrorLine(line) || HasControlCharacter(line)) {
      std::fprintf(stderr, "malformed error line: '%s'\n", std::string(line).c_str());
    }
    SHOAL_FUZZ_CHECK(IsErrorLine(line));
    SHOAL_FUZZ_CHECK(!HasControlCharacter(line));
    ++lines;
    if (newline == std::string_view::npos) break;
    rest.remove_prefix(newline + 1);
  }
  SHOAL_FUZZ_CHECK(lines <= 101);  // at most 100 errors and a "... and N more errors" line
  return 0;
}

}  // namespace shoal::fuzz

SHOAL_FUZZ_TARGET(shoal::fuzz::ConfigFuzzOneInput)
