#include "server/config/suggest.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"

namespace shoal::server::schema {
namespace {

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), so "adress" and
// "reuseprot" are both one edit away.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string_view> Closest(std::string_view word,
                                        std::span<const std::string_view> candidates) {
  std::string lower = Lower(word);
  std::optional<std::string_view> best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (std::string_view candidate : candidates) {
    size_t allowed = candidate.size() <= 4 ? 1 : candidate.size() <= 8 ? 2 : 3;
    // The distance is at least the difference in length: skip the O(length * length) table when
    // that alone is too far (a key of megabytes took seconds and hundreds of MiB per candidate).
    size_t gap = lower.size() > candidate.size() ? lower.size() - candidate.size()
                                                 : candidate.size() - lower.size();
    if (gap > allowed) continue;
    size_t distance = EditDistance(lower, candidate);
    if (distance <= allowed && distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string Alternatives(std::span<const std::string_view> names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

std::string DidYouMean(std::string_view suggestion) {
  return absl::StrCat(" (did you mean '", std::string(suggestion), "'?)");
}

std::string UnknownName(std::string_view what, std::string_view word,
                        std::span<const std::string_view> names) {
  std::string hint = absl::StrCat(" (expected ", Alternatives(names), ")");
  if (auto close = Closest(word, names)) hint = DidYouMean(*close);
  return absl::StrCat("unknown ", std::string(what), " '", std::string(word), "'", hint);
}

}  // namespace shoal::server::schema
