#include "core/source_limiter.h"

#include <string>

#include "gtest/gtest.h"

namespace shoal::core {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

SocketAddress Peer(const std::string& text) {
  auto address = SocketAddress::Parse(text);
  EXPECT_TRUE(address.ok()) << text;
  return address.ok() ? *address : SocketAddress();
}

using Verdict = SourceLimiter::Verdict;

TEST(SourceLimiter, WithoutLimitsAdmitsAndTracksNothing) {
  SourceLimiter limiter;
  SourceLimiter::Entry* entry = nullptr;
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(limiter.Admit(Peer("10.0.0.1:1000"), 0, &entry), Verdict::kAdmit);
    EXPECT_EQ(entry, nullptr);
  }
  EXPECT_EQ(limiter.tracked(), 0u);
}

TEST(SourceLimiter, ConnectionLimitIsPerSourceAndFreedOnRelease) {
  SourceLimiter limiter;
  limiter.set_limits({/*max_connections=*/2, /*rate_per_second=*/0});
  SourceLimiter::Entry* handles[4] = {};
  SourceLimiter::Entry*& first = handles[0];
  ASSERT_EQ(limiter.Admit(Peer("10.0.0.1:1"), 0, &handles[0]), Verdict::kAdmit);
  ASSERT_EQ(limiter.Admit(Peer("10.0.0.1:2"), 0, &handles[1]), Verdict::kAdmit);
  EXPECT_EQ(limiter.Admit(Peer("10.0.0.1:3"), 0, &handles[2]), Verdict::kOverLimit);
  EXPECT_EQ(handles[2], nullptr);
  EXPECT_EQ(limiter.Admit(Peer("10.0.0.2:1"), 0, &handles[3]), Verdict::kAdmit);
  limiter.Release(first);
  EXPECT_EQ(limiter.Admit(Peer("10.0.0.1:4"), 0, &first), Verdict::kAdmit);
}

TEST(SourceLimiter, Ipv4MappedIpv6IsTheSameSource) {
  SourceLimiter limiter;
  limiter.set_limits({1, 0});
  SourceLimiter::Entry* entry = nullptr;
  ASSERT_EQ(limiter.Admit(Peer("192.0.2.7:1"), 0, &entry), Verdict::kAdmit);
  EXPECT_EQ(limiter.Admit(Peer("[::ffff:192.0.2.7]:2"), 0, &entry), Verdict::kOverLimit);
  EXPECT_EQ(limiter.Admit(Peer("[2001:db8::7]:2"), 0, &entry), Verdict::kAdmit);
}

TEST(SourceLimiter, RateIsATokenBucketWithOneSecondOfBurst) {
  SourceLimiter limiter;
  limiter.set_limits({0, /*rate_per_second=*/4});
  SourceLimiter::Entry* entry = nullptr;
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(limiter.Admit(Peer("10.0.0.1:1"), 0, &entry), Verdict::kAdmit) << i;
    limiter.Release(entry);
  }
  EXPECT_EQ(limiter.Admit(Peer("10.0.0.1:1"), 0, &entry), Verdict::kOverRate);
  EXPECT_EQ(limiter.Admit(Peer("10.0.0.2:1"), 0, &entry), Verdict::kAdmit);
  // A quarter of a second refills one token.
  EXPECT_EQ(limiter.Admit(Peer("10.0.0.1:1"), kSecond / 4 - 1000, &entry), Verdict::kOverRate);
  EXPECT_EQ(limiter.Admit(Peer("10.0.0.1:1"), kSecond / 4 + 1000, &entry), Verdict::kAdmit);
  EXPECT_EQ(limiter.Admit(Peer("10.0.0.1:1"), kSecond / 4 + 2000, &entry), Verdict::kOverRate);
}

TEST(SourceLimiter, EntriesAreBoundedIdleOnesEvictedOldestFirstBusyOnesKept) {
  SourceLimiter limiter(/*max_entries=*/3);
  limiter.set_limits({1, 0});
  SourceLimiter::Entry* busy = nullptr;
  SourceLimiter::Entry* entry = nullptr;
  ASSERT_EQ(limiter.Admit(Peer("10.0.0.1:1"), 0, &busy), Verdict::kAdmit);
  // A spoofed-source flood: every source new, each connection closing at once.
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(limiter.Admit(Peer("10.1." + std::to_string(i / 250) + "." +
                                 std::to_string(i % 250) + ":1"),
                            0, &entry),
              Verdict::kAdmit);
    limiter.Release(entry);
    ASSERT_LE(limiter.tracked(), 3u);
  }
  EXPECT_EQ(limiter.untracked(), 0u);
  // The busy source was never evicted: its limit still holds.
  EXPECT_EQ(limiter.Admit(Peer("10.0.0.1:2"), 0, &entry), Verdict::kOverLimit);

  // Every tracked source busy: a new one is admitted untracked, and counted.
  for (const char* busy_source : {"10.0.0.2:1", "10.0.0.3:1"}) {
    ASSERT_EQ(limiter.Admit(Peer(busy_source), 0, &entry), Verdict::kAdmit);
  }
  EXPECT_EQ(limiter.Admit(Peer("10.0.0.4:1"), 0, &entry), Verdict::kAdmit);
  EXPECT_EQ(entry, nullptr);
  EXPECT_EQ(limiter.untracked(), 1u);
  EXPECT_EQ(limiter.tracked(), 3u);
}

}  // namespace
}  // namespace shoal::core
