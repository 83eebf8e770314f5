#include "server/config/emit.h"

#include <algorithm>
#include <cctype>
#include <span>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/config/schema.h"
#include "server/config/suggest.h"
#include "server/config/units.h"

namespace shoal::server {
namespace schema {
namespace {

std::string Str(std::string_view s) { return std::string(s); }

// A double-quoted YAML scalar; safe for any bytes.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// Plain when YAML reads it back as the same string, else quoted.
std::string PlainOrQuote(std::string_view text) {
  bool plain = !text.empty() && std::isalnum(static_cast<unsigned char>(text.front())) &&
               std::all_of(text.begin(), text.end(), [](char c) {
                 return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
                        c == ':' || c == '/' || c == '-';
               });
  return plain ? Str(text) : Quote(text);
}

constexpr size_t kCommentColumn = 28;

class Emitter {
 public:
  explicit Emitter(bool annotated) : annotated_(annotated) {}

  std::string Emit(const Config& config) {
    std::vector<std::string_view> open;  // the sections the previous key was in
    for (const Key<Config>& key : ConfigKeys()) {
      std::vector<std::string_view> sections = Segments(ParentOf(key.path));
      size_t common = 0;
      while (common < open.size() && common < sections.size() && open[common] == sections[common]) {
        ++common;
      }
      for (size_t depth = common; depth < sections.size(); ++depth) {
        Line(Indent(depth) + Str(sections[depth]) + ":", "");
      }
      open = sections;
      std::string prefix = Indent(sections.size()) + Str(LastSegment(key.path)) + ":";
      if (const auto* list = std::get_if<ListenersKey>(&key.value)) {
        EmitListeners(Read(list->ref, config), prefix, key);
      } else {
        Line(prefix + " " + Spell(key, config), Comment(key));
      }
    }
    return std::move(out_);
  }

 private:
  static std::vector<std::string_view> Segments(std::string_view path) {
    std::vector<std::string_view> segments;
    while (!path.empty()) {
      size_t dot = path.find('.');
      segments.push_back(path.substr(0, dot));
      path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    }
    return segments;
  }

  static std::string Indent(size_t depth) { return std::string(2 * depth, ' '); }

  void EmitListeners(const std::vector<ListenerConfig>& listeners, const std::string& prefix,
                     const Key<Config>& key) {
    if (listeners.empty()) return Line(prefix + " []", Comment(key));
    Line(prefix, Comment(key));
    for (const ListenerConfig& listener : listeners) {
      bool first = true;
      std::string_view section;  // a nested map of the item ("tls") being emitted
      for (const Key<ListenerConfig>& item_key : ListenerKeys()) {
        std::string_view parent = ParentOf(item_key.path);
        if (!parent.empty() && parent != section) Line(absl::StrCat("    ", Str(parent), ":"), "");
        section = parent;
        Line(absl::StrCat(first ? "  - " : (parent.empty() ? "    " : "      "),
                          Str(LastSegment(item_key.path)), ": ", Spell(item_key, listener)),
             Comment(item_key));
        first = false;
      }
    }
  }

  template <typename Record>
  std::string Spell(const Key<Record>& key, const Record& record) const {
    return std::visit(
        [&](const auto& field) -> std::string {
          using Field = std::decay_t<decltype(field)>;
          if constexpr (std::is_same_v<Field, DurationKey<Record>>) {
            return FormatConfigDuration(Read(field.ref, record));
          } else if constexpr (std::is_same_v<Field, SizeKey<Record>>) {
            return FormatConfigSize(Read(field.ref, record));
          } else if constexpr (std::is_same_v<Field, PercentKey<Record>>) {
            return FormatConfigPercent(Read(field.ref, record));
          } else if constexpr (std::is_same_v<Field, BoolKey<Record>>) {
            return Read(field.ref, record) ? "true" : "false";
          } else if constexpr (std::is_same_v<Field, StringKey<Record>>) {
            const std::string& text = Read(field.ref, record);
            return annotated_ ? PlainOrQuote(text) : Quote(text);
          } else if constexpr (std::is_same_v<Field, ChoiceKey<Record>>) {
            return Str(field.get(record));
          } else if constexpr (std::is_same_v<Field, StringListKey<Record>>) {
            std::string list;
            for (const std::string& item : Read(field.ref, record)) {
              absl::StrAppend(&list, list.empty() ? "" : ", ", Quote(item));
            }
            return "[" + list + "]";
          } else if constexpr (std::is_same_v<Field, ListenersKey>) {
            return "";  // emitted by EmitListeners
          } else {
            return absl::StrCat(Read(field.ref, record));
          }
        },
        key.value);
  }

  template <typename Record>
  std::string Comment(const Key<Record>& key) const {
    if (!annotated_) return "";
    std::string comment = Str(key.doc);
    std::span<const std::string_view> names;
    if (const auto* choice = std::get_if<ChoiceKey<Record>>(&key.value)) names = choice->names();
    if (const auto* text = std::get_if<StringKey<Record>>(&key.value); text && text->names) {
      names = text->names();
    }
    if (!names.empty()) absl::StrAppend(&comment, ": ", Alternatives(names));
    if (key.reload == Reload::kRestart) comment = "[restart] " + comment;
    return comment;
  }

  void Line(const std::string& text, const std::string& comment) {
    out_ += text;
    if (!comment.empty()) {
      out_ += std::string(text.size() < kCommentColumn ? kCommentColumn - text.size() : 1, ' ');
      absl::StrAppend(&out_, "# ", comment);
    }
    out_ += '\n';
  }

  const bool annotated_;
  std::string out_;
};

}  // namespace
}  // namespace schema

std::string ConfigToYaml(const Config& config) {
  return "# shoal effective configuration\n" + schema::Emitter(false).Emit(config);
}

std::string ConfigReference() { return schema::Emitter(true).Emit(Config::Default()); }

}  // namespace shoal::server
