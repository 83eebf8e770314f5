// Deterministic pseudo-random bytes for test payloads (same seed, same bytes). Pure function.
#ifndef SHOAL_TESTS_SUPPORT_RANDOM_BYTES_H_
#define SHOAL_TESTS_SUPPORT_RANDOM_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace shoal::testing {

std::string RandomBytes(size_t n, uint64_t seed);

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_RANDOM_BYTES_H_
