// Semantic checks of a Config: the bounds of every key in the schema table, the string rules
// (listener names, socket addresses, names from a list), and the cross-field rules
// (low_watermark < high_watermark <= worker_budget; no address bound twice). Pure functions; any
// thread.
#ifndef SHOAL_SERVER_CONFIG_VALIDATE_H_
#define SHOAL_SERVER_CONFIG_VALIDATE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/config/types.h"

namespace shoal::server {

// The semantic checks of ParseConfig (ranges, cross-field rules, addresses, unique names) for a
// Config built or modified in code, e.g. after a command-line override. Errors are
// "key.path: message", one per line, in an InvalidArgument status.
absl::Status ValidateConfig(const Config& config);

namespace schema {

struct Issue {
  std::string path;                   // the key the message is about
  std::string message;                // without the path
  std::vector<std::string> involves;  // every key the check read (the reader skips the check
                                      // if any of them failed to parse)
};

// Every issue of `config`: the keys' own checks in table order (a listener's keys per item),
// then the cross-field checks. `in_file(path)` says whether the file wrote a key, so that a
// cross-field error points at a key the user wrote rather than one left at its default.
std::vector<Issue> CheckConfig(const Config& config,
                               const std::function<bool(const std::string&)>& in_file);

}  // namespace schema
}  // namespace shoal::server

#endif  // SHOAL_SERVER_CONFIG_VALIDATE_H_
