// 20 upgrades of the real binary (SIGUSR2) while tools/loadgen runs open loop with --verify on
// connections that reconnect every 10 requests: loadgen's own verdict must be zero errors of every
// kind (connect, reset, timeout, eof, mismatch), and shoal_generation is 21 at the end.
// Optimized build only: loadgen's fixed window must cover the 20 upgrades.
#include <iostream>
#include <string>

#include "gtest/gtest.h"
#include "tests/support/subprocess.h"
#include "tests/support/upgradable_shoal.h"

namespace shoal::testing {
namespace {

TEST(UpgradeLoadgenE2eTest, TwentyUpgradesUnderLoadgenVerify) {
  UpgradableShoal shoal("loadgen", EchoServerConfig(2));
  ASSERT_TRUE(shoal.started()) << shoal.Log();
  Subprocess loadgen({"tools/loadgen/loadgen",
                      "--target=127.0.0.1:" + std::to_string(shoal.ports().listener),
                      "--connections=16", "--rate=3000", "--reconnect_every=10", "--verify",
                      "--duration=15s", "--timeout=5s", "--assert=errors==0"});
  ASSERT_TRUE(loadgen.started());
  int upgrades = 0;
  const Deadline window = seconds(13);
  while (upgrades < 20 && !window.expired()) {
    ASSERT_TRUE(shoal.Upgrade(seconds(10))) << "upgrade " << upgrades + 1 << "\n" << shoal.Log();
    ++upgrades;
  }
  std::optional<int> status = loadgen.Wait(seconds(60));
  std::cout << loadgen.out() << "\n";
  EXPECT_EQ(upgrades, 20) << "the upgrades did not fit in loadgen's window";
  EXPECT_EQ(status, 0) << loadgen.out() << loadgen.err();
  EXPECT_EQ(shoal.Metric("shoal_generation"), upgrades + 1);
  EXPECT_TRUE(shoal.Stop(seconds(20)));
}

}  // namespace
}  // namespace shoal::testing
