// yaml-cpp helpers for the config reader: how a node is described in errors, the documents of a
// stream, positions, and one-line error text. Pure functions; any thread. Functions that parse
// may throw YAML::Exception, as yaml-cpp does.
#ifndef SHOAL_SERVER_CONFIG_YAML_NODE_H_
#define SHOAL_SERVER_CONFIG_YAML_NODE_H_

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::server::schema {

// "a map", "a list", "'text'" or "nothing".
std::string Describe(const YAML::Node& node);

// True for a scalar written without quotes (so "4" is not an integer, nor 'true' a boolean).
bool IsPlainScalar(const YAML::Node& node);

// Appends `text` with a line feed spelled "\\n" and other control characters as '?', so that an
// error about any bytes stays on one line.
void AppendOneLine(std::string* out, std::string_view text);
std::string OneLine(std::string_view text);

// The documents of a YAML stream, from parser events (no nodes built): where each starts, where
// its root node is (the position YAML::Node::Mark() gives), and where the parser got stuck on a
// token it never consumes (a syntax error), if it did.
struct DocumentScan {
  std::vector<YAML::Mark> starts;
  std::vector<YAML::Mark> roots;
  std::optional<YAML::Mark> stuck;
};
DocumentScan ScanDocuments(const std::string& text);

// yaml-cpp positions an empty list item at the token after it; this is the position of its '-'
// in `text` (or `mark` when there is none).
YAML::Mark PrecedingDash(const std::string& text, YAML::Mark mark);

}  // namespace shoal::server::schema

#endif  // SHOAL_SERVER_CONFIG_YAML_NODE_H_
