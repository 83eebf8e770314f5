// A small strict JSON reader for tests: enough to check that loadgen's --json output is valid
// JSON and to read its figures back. Numbers are doubles (integers up to 2^53 are exact).
#ifndef SHOAL_TESTS_TOOLS_LOADGEN_MINI_JSON_H_
#define SHOAL_TESTS_TOOLS_LOADGEN_MINI_JSON_H_

#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::testing {

struct Json {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject } type = Type::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json> object;

  // Member lookup; a null value when absent or not an object.
  const Json& operator[](const std::string& key) const {
    static const Json kNull;
    auto it = object.find(key);
    return it == object.end() ? kNull : it->second;
  }
  bool has(const std::string& key) const { return object.count(key) > 0; }
};

class JsonReader {
 public:
  // The value, or nullopt when `text` is not exactly one valid JSON value.
  static std::optional<Json> Parse(std::string_view text) {
    JsonReader reader(text);
    Json value;
    if (!reader.Value(&value)) return std::nullopt;
    reader.Space();
    if (reader.pos_ != text.size()) return std::nullopt;
    return value;
  }

 private:
  explicit JsonReader(std::string_view text) : text_(text) {}

  void Space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool String(std::string* out) {
    if (pos_ >= text_.size() || text_[pos_] != '"') return false;
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) return false;
      char e = text_[pos_++];
      switch (e) {
        case '"': case '\\': case '/': out->push_back(e); break;
        case 'n': out->push_back('\n'); break;
        case 't': out->push_back('\t'); break;
        case 'r': out->push_back('\r'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'u': {
          if (pos_ + 4 > text_.size()) return false;
          out->push_back(static_cast<char>(std::strtol(std::string(text_.substr(pos_, 4)).c_str(),
                                                        nullptr, 16)));
          pos_ += 4;
          break;
        }
        default: return false;
      }
    }
    if (pos_ >= text_.size()) return false;
    ++pos_;
    return true;
  }
  bool Number(double* out) {
    size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    if (pos_ >= text_.size() || !std::isdigit(static_cast<unsigned char>(text_[pos_]))) return false;
    while (pos_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) ||
                                   text_[pos_] == '.' || text_[pos_] == 'e' ||
                                   text_[pos_] == 'E' || text_[pos_] == '+' ||
                                   text_[pos_] == '-')) {
      ++pos_;
    }
    std::string number(text_.substr(start, pos_ - start));
    char* end = nullptr;
    *out = std::strtod(number.c_str(), &end);
    return end == number.c_str() + number.size();
  }
  bool Value(Json* out) {
    Space();
    if (pos_ >= text_.size()) return false;
    char c = text_[pos_];
    if (c == '{') {
      out->type = Json::Type::kObject;
      ++pos_;
      Space();
      if (pos_ < text_.size() && text_[pos_] == '}') return ++pos_, true;
      for (;;) {
        Space();
        std::string key;
        if (!String(&key)) return false;
        Space();
        if (pos_ >= text_.size() || text_[pos_++] != ':') return false;
        Json value;
        if (!Value(&value)) return false;
        if (out->object.count(key) > 0) return false;  // duplicate keys are a bug in the writer
        out->object.emplace(std::move(key), std::move(value));
        Space();
        if (pos_ >= text_.size()) return false;
        if (text_[pos_] == ',') { ++pos_; continue; }
        if (text_[pos_] == '}') return ++pos_, true;
        return false;
      }
    }
    if (c == '[') {
      out->type = Json::Type::kArray;
      ++pos_;
      Space();
      if (pos_ < text_.size() && text_[pos_] == ']') return ++pos_, true;
      for (;;) {
        Json value;
        if (!Value(&value)) return false;
        out->array.push_back(std::move(value));
        Space();
        if (pos_ >= text_.size()) return false;
        if (text_[pos_] == ',') { ++pos_; continue; }
        if (text_[pos_] == ']') return ++pos_, true;
        return false;
      }
    }
    if (c == '"') {
      out->type = Json::Type::kString;
      return String(&out->string);
    }
    if (Literal("true")) { out->type = Json::Type::kBool; out->boolean = true; return true; }
    if (Literal("false")) { out->type = Json::Type::kBool; return true; }
    if (Literal("null")) { out->type = Json::Type::kNull; return true; }
    out->type = Json::Type::kNumber;
    return Number(&out->number);
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_TOOLS_LOADGEN_MINI_JSON_H_
