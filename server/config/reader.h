// The strict YAML reader: YAML text -> Config, walking the schema table.
//
//  * Keys left out take the defaults; an empty file, or one holding only comments, is
//    Config::Default(). A given `listeners` list replaces the default list entirely.
//  * Strict: unknown keys (with a "did you mean 'X'?" hint when a known key is close), duplicate
//    keys, wrong types, bad units and out-of-range values are all errors. Booleans are exactly
//    `true` or `false` (no yes/no/on/off, not quoted). Integers are plain decimal scalars (not
//    quoted). Durations and sizes use the formats of ParseDuration and ParseSize (plain or
//    quoted). A section with an empty body ("limits:" with its lines commented out) keeps its
//    defaults; an empty scalar value ("idle:") is an error. One YAML document per file; anchors
//    and aliases work, merge keys ("<<") are not supported.
//  * Every error is one line "file:line:column: key.path: message" (1-based, pointing at the key
//    for unknown/duplicate keys, at the value otherwise), e.g.
//      shoal.yaml:7:9: timeouts.idle: invalid duration 'ten seconds' (expected a number with a
//      unit: 250ms, 10s, 5m)
//      shoal.yaml:3:5: listeners[0].adress: unknown key (did you mean 'address'?)
//    YAML syntax errors carry file:line:column too (and stop the parse: only that one is given).
//    Otherwise ALL errors are reported, one per line, in an InvalidArgument status: first the
//    structural ones (unknown keys, types, units) in file order, then the checks of validate.h.
//    A check that reads a value which failed to parse is skipped, so one mistake gives one line.
//    A cross-field error (low_watermark >= high_watermark) points at a key the file sets, when
//    only one of the two is set.
//
// Pure functions of their arguments (LoadConfigFile also reads the file): any thread.
#ifndef SHOAL_SERVER_CONFIG_READER_H_
#define SHOAL_SERVER_CONFIG_READER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "server/config/types.h"

namespace shoal::server {

// Parses and validates `yaml_text`. `file_name` only prefixes error messages.
absl::StatusOr<Config> ParseConfig(std::string_view yaml_text, std::string_view file_name);

// Reads `path` and parses it (errors are prefixed with `path`). A file that cannot be read gives an
// error naming the path and the reason, e.g. "cannot read config file 'x.yaml': No such file or
// directory" (NotFound for a missing file).
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

}  // namespace shoal::server

#endif  // SHOAL_SERVER_CONFIG_READER_H_
