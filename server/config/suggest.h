// "Did you mean" for config keys and names: the closest known word to a typo, and the wording of
// hints and lists of alternatives. Pure functions; any thread.
#ifndef SHOAL_SERVER_CONFIG_SUGGEST_H_
#define SHOAL_SERVER_CONFIG_SUGGEST_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace shoal::server::schema {

// The closest of `candidates` to `word` (compared in lower case) if it is close enough to be a
// plausible typo: optimal string alignment distance at most 1, 2 or 3 for candidates of up to 4,
// up to 8 or more characters. O(|word| * |candidate|) per candidate within reach.
std::optional<std::string_view> Closest(std::string_view word,
                                        std::span<const std::string_view> candidates);

// "a, b or c".
std::string Alternatives(std::span<const std::string_view> names);

// " (did you mean 'x'?)".
std::string DidYouMean(std::string_view suggestion);

// "unknown <what> '<word>'" plus " (did you mean 'x'?)" when one is close, else
// " (expected a, b or c)".
std::string UnknownName(std::string_view what, std::string_view word,
                        std::span<const std::string_view> names);

std::string Lower(std::string_view text);

}  // namespace shoal::server::schema

#endif  // SHOAL_SERVER_CONFIG_SUGGEST_H_
