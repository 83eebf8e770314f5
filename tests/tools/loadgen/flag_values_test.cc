// loadgen's flag value syntaxes: sizes with units, and the errors (never an exception, never a
// wrapped product) for what is not one.
#include "tools/loadgen/flag_values.h"

#include <gtest/gtest.h>

namespace shoal::loadgen {
namespace {

TEST(FlagValuesTest, SizesWithUnits) {
  EXPECT_EQ(*ParseByteSize("0"), 0u);
  EXPECT_EQ(*ParseByteSize("64"), 64u);
  EXPECT_EQ(*ParseByteSize("10B"), 10u);
  EXPECT_EQ(*ParseByteSize("1KiB"), 1024u);
  EXPECT_EQ(*ParseByteSize("2MiB"), 2u << 20);
  EXPECT_EQ(*ParseByteSize("3KB"), 3000u);
  EXPECT_EQ(*ParseByteSize("1MB"), 1000000u);
}

TEST(FlagValuesTest, OverLongAndWrappingSizesAreErrors) {
  for (const char* text : {"99999999999999999999999", "18446744073709551615KiB",
                           "18014398509481984KiB", "", "KiB", "-1", "1.5KiB", "12 B", "1GiB"}) {
    auto size = ParseByteSize(text);
    ASSERT_FALSE(size.ok()) << text;
    EXPECT_NE(size.status().message().find("is not a size"), std::string::npos);
  }
  EXPECT_EQ(*ParseByteSize("18446744073709551615"), 18446744073709551615ull);
}

TEST(FlagValuesTest, Durations) {
  EXPECT_EQ(*ParseDurationNs("1s"), 1'000'000'000);
  EXPECT_EQ(*ParseDurationNs("1m30s"), 90'000'000'000);
  EXPECT_EQ(*ParseDurationNs("0"), 0);
  EXPECT_FALSE(ParseDurationNs("-1s").ok());
  EXPECT_FALSE(ParseDurationNs("inf").ok());
  EXPECT_FALSE(ParseDurationNs("ten").ok());
}

}  // namespace
}  // namespace shoal::loadgen
