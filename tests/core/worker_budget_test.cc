// The worker budget rule (core/worker_budget.h) as a pure function, and its blocked list.
#include "core/worker_budget.h"

#include <vector>

#include "gtest/gtest.h"

namespace shoal::core {
namespace {

constexpr WorkerBudgetLimits kLimits{/*worker_budget=*/8000, /*read_budget_bytes=*/100,
                                     /*low_watermark=*/50};

TEST(WorkerBudgetRule, PressureThresholdIsSevenEighthsOfTheBudget) {
  EXPECT_EQ(WorkerBudgetPressureThreshold(8000), 7000u);
  EXPECT_EQ(WorkerBudgetPressureThreshold(0), 0u);
}

// WorkerBudgetRoom(kLimits, worker_queued, connection_queued) == room, for the reason `rule`.
struct RoomCase {
  const char* rule;
  uint64_t worker_queued;
  uint64_t connection_queued;
  uint64_t room;
};

TEST(WorkerBudgetRule, RoomFollowsTheRule) {
  const RoomCase cases[] = {
      {"below pressure: what is left of the budget", 0, 10, 8000},
      {"below pressure: what is left of the budget", 6999, 1000, 1001},
      {"under pressure: above the low watermark stops", 7000, 51, 0},
      {"under pressure: at the low watermark reads on", 7000, 50, 1000},
      {"under pressure: at the low watermark reads on", 7999, 1, 1},
      {"at the budget: holding output stops", 8000, 1, 0},
      {"at the budget: holding output stops", 9000, 1, 0},
      {"nothing queued: one read budget past the budget", 8000, 0, 100},
      {"nothing queued: one read budget past the budget", 8060, 0, 40},
      {"nothing queued: one read budget past the budget", 8100, 0, 0},
      {"nothing queued: one read budget past the budget", 20000, 0, 0},
  };
  for (const RoomCase& c : cases) {
    EXPECT_EQ(WorkerBudgetRoom(kLimits, c.worker_queued, c.connection_queued), c.room)
        << c.rule << " (worker " << c.worker_queued << ", connection " << c.connection_queued
        << ")";
  }
}

struct FakeConnection : BudgetBlockedNode {
  explicit FakeConnection(uint64_t queued) : queued(queued) {}
  uint64_t queued_output_bytes() const { return queued; }
  uint64_t queued;
};

std::vector<FakeConnection*> Resume(BudgetBlockedList<FakeConnection>& list, uint64_t worker_queued) {
  std::vector<FakeConnection*> resumed;
  list.ResumeUnblocked(kLimits, worker_queued,
                       [&](FakeConnection* connection) { resumed.push_back(connection); });
  return resumed;
}

TEST(BudgetBlockedList, ResumesInBlockingOrderOnlyThoseTheRuleNoLongerBlocks) {
  FakeConnection big(1000), small(10), idle(0);
  BudgetBlockedList<FakeConnection> list;
  list.Add(&big);
  list.Add(&small);
  list.Add(&idle);
  list.Add(&small);  // idempotent
  EXPECT_EQ(list.size(), 3u);

  EXPECT_TRUE(Resume(list, 8100).empty());
  EXPECT_EQ(Resume(list, 8050), std::vector<FakeConnection*>{&idle});
  EXPECT_EQ(Resume(list, 7500), std::vector<FakeConnection*>{&small});
  EXPECT_EQ(list.size(), 1u);
  EXPECT_EQ(Resume(list, 6000), std::vector<FakeConnection*>{&big});
  EXPECT_TRUE(list.empty());
}

TEST(BudgetBlockedList, RemoveIsConstantTimeAndSafeForAnElementNotInTheList) {
  FakeConnection a(1), b(1), c(1), outside(1);
  BudgetBlockedList<FakeConnection> list;
  list.Add(&a);
  list.Add(&b);
  list.Add(&c);
  list.Remove(&b);
  list.Remove(&outside);
  EXPECT_EQ(list.size(), 2u);
  EXPECT_EQ(Resume(list, 0), (std::vector<FakeConnection*>{&a, &c}));
}

}  // namespace
}  // namespace shoal::core
