#include "tools/config_doc/readme_block.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/config/emit.h"

namespace shoal::tools {
namespace {

struct Span {
  size_t begin;  // first byte after the begin marker's line
  size_t end;    // first byte of the end marker
};

absl::StatusOr<Span> FindBlock(std::string_view readme) {
  size_t begin = readme.find(kReferenceBegin);
  size_t end = readme.find(kReferenceEnd);
  if (begin == std::string_view::npos || end == std::string_view::npos) {
    return absl::NotFoundError(absl::StrCat("README.md lacks the config reference markers '",
                                            std::string(kReferenceBegin), "' and '",
                                            std::string(kReferenceEnd), "'"));
  }
  size_t line_end = readme.find('\n', begin);
  if (line_end == std::string_view::npos || line_end >= end) {
    return absl::InvalidArgumentError("README.md: the config reference markers are out of order");
  }
  return Span{line_end + 1, end};
}

}  // namespace

std::string ReferenceBlock() {
  return absl::StrCat("```yaml\n", server::ConfigReference(), "```\n");
}

absl::StatusOr<std::string> ExtractReferenceBlock(std::string_view readme) {
  absl::StatusOr<Span> span = FindBlock(readme);
  if (!span.ok()) return span.status();
  return std::string(readme.substr(span->begin, span->end - span->begin));
}

absl::StatusOr<std::string> ReplaceReferenceBlock(std::string_view readme, std::string_view block) {
  absl::StatusOr<Span> span = FindBlock(readme);
  if (!span.ok()) return span.status();
  return absl::StrCat(std::string(readme.substr(0, span->begin)), std::string(block),
                      std::string(readme.substr(span->end)));
}

}  // namespace shoal::tools
