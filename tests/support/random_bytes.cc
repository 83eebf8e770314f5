#include "tests/support/random_bytes.h"

#include <random>

namespace shoal::testing {

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>(random());
  return out;
}

}  // namespace shoal::testing
