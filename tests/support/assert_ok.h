// ASSERT_OK_AND_ASSIGN(lhs, expr): evaluates `expr` (an absl::StatusOr), fails the test with its
// status unless it is ok, and otherwise moves the value into `lhs` (a declaration or an lvalue).
// For test bodies only (it returns from the enclosing function on failure, as ASSERT_* do).
#ifndef SHOAL_TESTS_SUPPORT_ASSERT_OK_H_
#define SHOAL_TESTS_SUPPORT_ASSERT_OK_H_

#include <utility>

#include "gtest/gtest.h"

#define SHOAL_TESTING_CONCAT_INNER(a, b) a##b
#define SHOAL_TESTING_CONCAT(a, b) SHOAL_TESTING_CONCAT_INNER(a, b)

#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(SHOAL_TESTING_CONCAT(status_or_, __LINE__), lhs, expr)

#define ASSERT_OK_AND_ASSIGN_IMPL(status_or, lhs, expr) \
  auto status_or = (expr);                              \
  ASSERT_TRUE(status_or.ok()) << status_or.status();    \
  lhs = std::move(*status_or)

#endif  // SHOAL_TESTS_SUPPORT_ASSERT_OK_H_
