#include "server/config/yaml_node.h"

#include <yaml-cpp/eventhandler.h>

#include <sstream>

#include "absl/strings/str_cat.h"

namespace shoal::server::schema {
namespace {

// The documents of a YAML stream, from parser events (no nodes built): where each starts, and
// where its root node is (the position YAML::Node::Mark() gives).
class DocumentMarks final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  std::vector<YAML::Mark> roots;

  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnMapEnd() override {}

 private:
  void Node(const YAML::Mark& mark) {
    if (roots.size() < starts.size()) roots.push_back(mark);
  }
};

}  // namespace

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return absl::StrCat("'", node.Scalar(), "'");
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

bool IsPlainScalar(const YAML::Node& node) { return node.Tag() == "?"; }

// Appends `text` with a line feed spelled "\\n" and other control characters as '?', so that an
// error about any bytes stays on one line.
void AppendOneLine(std::string* out, std::string_view text) {
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n') {
      *out += "\\n";
    } else if (u < 0x20 || u == 0x7f) {
      *out += '?';
    } else {
      *out += c;
    }
  }
}

std::string OneLine(std::string_view text) {
  std::string out;
  AppendOneLine(&out, text);
  return out;
}

DocumentScan ScanDocuments(const std::string& text) {
  // The event parser rather than YAML::LoadAll: yaml-cpp 0.7's LoadAll never returns when a
  // document starts with a stray ',' (the token is never consumed and each round yields another
  // empty document, without end; yaml-cpp #1040 upstream). Here a document that starts where the
  // previous one did is that stuck token.
  std::istringstream stream(text);
  YAML::Parser events(stream);
  DocumentMarks documents;
  DocumentScan scan;
  while (events.HandleNextDocument(documents)) {
    const size_t n = documents.starts.size();
    if (n >= 2 && documents.starts[n - 1].pos == documents.starts[n - 2].pos) {
      scan.stuck = documents.starts[n - 1];
      break;
    }
  }
  scan.starts = std::move(documents.starts);
  scan.roots = std::move(documents.roots);
  return scan;
}

YAML::Mark PrecedingDash(const std::string& text, YAML::Mark mark) {
  if (mark.is_null() || mark.pos < 0 || static_cast<size_t>(mark.pos) > text.size()) return mark;
  size_t p = static_cast<size_t>(mark.pos);
  int line = mark.line;
  while (p > 0 && (text[p - 1] == ' ' || text[p - 1] == '\t' || text[p - 1] == '\r' ||
                   text[p - 1] == '\n')) {
    if (text[p - 1] == '\n') --line;
    --p;
  }
  if (p == 0 || text[p - 1] != '-') return mark;
  size_t dash = p - 1;
  size_t newline = text.rfind('\n', dash);
  YAML::Mark result = mark;
  result.pos = static_cast<int>(dash);
  result.line = line;
  result.column = static_cast<int>(newline == std::string::npos ? dash : dash - newline - 1);
  return result;
}

}  // namespace shoal::server::schema
