// Zero-downtime upgrades of the real binary (SIGUSR2) under verifying, reconnecting clients: not
// one connect error, reset, timeout or wrong answer while the process is replaced, the worker
// count changes, or a successor fails; connections queued while the old process was stopped are
// all answered.
#include <signal.h>

#include <iostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/client_socket.h"
#include "tests/support/echo_wire.h"
#include "tests/support/reconnecting_echo_load.h"
#include "tests/support/upgradable_shoal.h"

namespace shoal::testing {
namespace {

ReconnectingLoadOptions LoadOn(const UpgradableShoal& shoal) {
  ReconnectingLoadOptions options;
  options.port = static_cast<uint16_t>(shoal.ports().listener);
  options.connections = 12;
  options.requests_per_connection = 10;
  options.interval = std::chrono::microseconds(4000);
  return options;
}

// Waits until the clients have had `count` more requests answered.
bool LoadProgresses(const ReconnectingEchoLoad& load, uint64_t count) {
  const uint64_t target = load.requests() + count;
  return WaitFor([&] { return load.requests() >= target; }, seconds(10));
}

void ExpectNoClientErrors(const ReconnectingLoadCounts& counts) {
  std::cout << "clients: " << counts.Summary() << "\n";
  EXPECT_GT(counts.requests, 0u);
  EXPECT_EQ(counts.connect_errors, 0u) << counts.Summary();
  EXPECT_EQ(counts.resets, 0u) << counts.Summary();
  EXPECT_EQ(counts.timeouts, 0u) << counts.Summary();
  EXPECT_EQ(counts.mismatches, 0u) << counts.Summary();
}

TEST(UpgradeE2eTest, TwentyUpgradesUnderLoad) {
  UpgradableShoal shoal("twenty", EchoServerConfig(2));
  ASSERT_TRUE(shoal.started()) << shoal.Log();
  ReconnectingEchoLoad load(LoadOn(shoal));
  load.Start();
  ASSERT_TRUE(LoadProgresses(load, 200));
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(shoal.Upgrade(seconds(20))) << "upgrade " << i + 1 << "\n" << shoal.Log();
    ASSERT_TRUE(LoadProgresses(load, 100)) << "after upgrade " << i + 1;
  }
  ReconnectingLoadCounts counts = load.Stop();
  ExpectNoClientErrors(counts);
  EXPECT_EQ(shoal.Metric("shoal_generation"), 21);
  EXPECT_EQ(shoal.Metric("shoal_upgrades_total", {{"result", "succeeded"}}), 20);
  EXPECT_EQ(shoal.Metric("shoal_upgrades_total", {{"result", "failed"}}), 0);
  EXPECT_TRUE(shoal.Stop(seconds(20)));
}

TEST(UpgradeE2eTest, WorkerCountChangesBetweenGenerations) {
  // Without touching the machine's net.ipv4.tcp_migrate_req (the fallback: the old process
  // accepts the queues of the sockets the new one does not adopt).
  UpgradableShoal shoal("workers", EchoServerConfig(2), {"--upgrade_tcp_migrate_req=false"});
  ASSERT_TRUE(shoal.started()) << shoal.Log();
  ReconnectingEchoLoad load(LoadOn(shoal));
  load.Start();
  ASSERT_TRUE(LoadProgresses(load, 200));
  for (int workers : {4, 1, 3, 2}) {
    shoal.WriteConfig(EchoServerConfig(workers));
    ASSERT_TRUE(shoal.Upgrade(seconds(20))) << "to " << workers << " workers\n" << shoal.Log();
    ASSERT_TRUE(LoadProgresses(load, 200)) << "with " << workers << " workers";
  }
  ReconnectingLoadCounts counts = load.Stop();
  ExpectNoClientErrors(counts);
  EXPECT_EQ(shoal.Metric("shoal_generation"), 5);
  EXPECT_TRUE(shoal.Stop(seconds(20)));
}

TEST(UpgradeE2eTest, FailedSuccessorsLeaveTheOldProcessServing) {
  UpgradableShoal shoal("rollback", EchoServerConfig(2), {"--upgrade_ready_timeout=1s"});
  ASSERT_TRUE(shoal.started()) << shoal.Log();
  ReconnectingEchoLoad load(LoadOn(shoal));
  load.Start();
  ASSERT_TRUE(LoadProgresses(load, 100));

  shoal.WriteConfig("workers: 2\nlisteners: [ {name: echo, address: 127.0.0.1:0, prot: echo} ]\n");
  EXPECT_TRUE(shoal.UpgradeFails(seconds(20))) << "invalid config\n" << shoal.Log();
  ASSERT_TRUE(LoadProgresses(load, 100));
  shoal.WriteConfig(EchoServerConfig(2));

  shoal.ReplaceBinaryWithScript("#!/bin/sh\nkill -SEGV $$\n");
  EXPECT_TRUE(shoal.UpgradeFails(seconds(20))) << "crash at start\n" << shoal.Log();
  ASSERT_TRUE(LoadProgresses(load, 100));

  shoal.ReplaceBinaryWithScript("#!/bin/sh\nexec sleep 30\n");
  EXPECT_TRUE(shoal.UpgradeFails(seconds(20))) << "never ready\n" << shoal.Log();
  ASSERT_TRUE(LoadProgresses(load, 100));

  shoal.RestoreBinary();
  ASSERT_TRUE(shoal.Upgrade(seconds(20))) << shoal.Log();
  ASSERT_TRUE(LoadProgresses(load, 100));
  ReconnectingLoadCounts counts = load.Stop();
  ExpectNoClientErrors(counts);
  EXPECT_EQ(shoal.Metric("shoal_generation"), 2);
  EXPECT_EQ(shoal.Metric("shoal_upgrades_total", {{"result", "failed"}}), 3);
  EXPECT_EQ(shoal.Metric("shoal_upgrades_total", {{"result", "succeeded"}}), 1);
  EXPECT_TRUE(shoal.Stop(seconds(20)));
}

// Connections that each sent one echo frame and wait for its answer.
struct WaitingClients {
  std::vector<core::ScopedFd> sockets;
  std::vector<std::string> frames;
};

WaitingClients ConnectAndSend(int port, size_t count, const std::string& tag) {
  WaitingClients clients;
  auto sockets = ConnectMany(static_cast<uint16_t>(port), count, seconds(5));
  EXPECT_TRUE(sockets.ok()) << sockets.status();
  if (!sockets.ok()) return clients;
  clients.sockets = std::move(*sockets);
  for (size_t i = 0; i < clients.sockets.size(); ++i) {
    clients.frames.push_back(EncodeFrame(tag + "-" + std::to_string(i)));
    EXPECT_TRUE(SendAll(clients.sockets[i].get(), clients.frames.back(), seconds(5)).ok());
  }
  return clients;
}

void ExpectAllAnswered(const WaitingClients& clients, UpgradableShoal& shoal) {
  ASSERT_FALSE(clients.sockets.empty());
  for (size_t i = 0; i < clients.sockets.size(); ++i) {
    auto answer = ReadExactly(clients.sockets[i].get(), clients.frames[i].size(), seconds(10));
    ASSERT_TRUE(answer.ok()) << "connection " << i << ": " << answer.status() << "\n"
                             << shoal.Log();
    EXPECT_EQ(*answer, clients.frames[i]);
  }
}

// The old process is stopped (SIGSTOP) while clients connect and send: their connections sit
// completed but unaccepted in its sockets' queues when the upgrade starts. Each must be answered,
// whether the old process or the successor accepts it; with fewer workers in the successor,
// the sockets it does not adopt are emptied before they close.
void QueuedConnectionsAreAnswered(int workers_before, int workers_after) {
  UpgradableShoal shoal("queued" + std::to_string(workers_before) + std::to_string(workers_after),
                        EchoServerConfig(workers_before), {"--upgrade_tcp_migrate_req=false"});
  ASSERT_TRUE(shoal.started()) << shoal.Log();
  std::optional<pid_t> old_pid = shoal.serving_pid();
  ASSERT_TRUE(old_pid);
  shoal.WriteConfig(EchoServerConfig(workers_after));

  ASSERT_EQ(kill(*old_pid, SIGSTOP), 0);
  WaitingClients clients = ConnectAndSend(shoal.ports().listener, 60, "queued");
  ASSERT_EQ(kill(*old_pid, SIGUSR2), 0);
  ASSERT_EQ(kill(*old_pid, SIGCONT), 0);
  ExpectAllAnswered(clients, shoal);
  EXPECT_TRUE(WaitFor([&] { return shoal.serving_pid() != old_pid; }, seconds(20)));
  EXPECT_TRUE(WaitFor([&] { return shoal.Metric("shoal_generation") == 2; }, seconds(20)));
  clients.sockets.clear();
  EXPECT_TRUE(shoal.Stop(seconds(20)));
}

TEST(UpgradeE2eTest, QueuedConnectionsAreAnsweredSameWorkers) { QueuedConnectionsAreAnswered(2, 2); }

TEST(UpgradeE2eTest, QueuedConnectionsAreAnsweredFewerWorkers) {
  QueuedConnectionsAreAnswered(3, 1);
}

// The successor is stopped right after it serves, so connections queue on the sockets while the
// old process lets go of them and exits: had it closed a socket the successor does not hold, they
// would be reset.
TEST(UpgradeE2eTest, ConnectionsQueuedWhileTheOldProcessExitsAreAnswered) {
  UpgradableShoal shoal("handover", EchoServerConfig(2));
  ASSERT_TRUE(shoal.started()) << shoal.Log();
  std::optional<pid_t> old_pid = shoal.serving_pid();
  std::optional<pid_t> new_pid = shoal.Upgrade(seconds(20), /*wait_for_old_exit=*/false);
  ASSERT_TRUE(old_pid && new_pid) << shoal.Log();
  ASSERT_TRUE(WaitFor([&] { return shoal.Log().find("accepting no more") != std::string::npos; },
                      seconds(10)));
  ASSERT_EQ(kill(*new_pid, SIGSTOP), 0);

  WaitingClients clients = ConnectAndSend(shoal.ports().listener, 60, "handover");
  EXPECT_TRUE(WaitFor([&] { return UpgradableShoal::ProcessGone(*old_pid); }, seconds(20)));
  ASSERT_EQ(kill(*new_pid, SIGCONT), 0);
  ExpectAllAnswered(clients, shoal);
  clients.sockets.clear();
  EXPECT_TRUE(shoal.Stop(seconds(20)));
}

TEST(UpgradeE2eTest, SecondSignalDuringAnUpgradeIsRefused) {
  UpgradableShoal shoal("second", EchoServerConfig(1), {"--upgrade_ready_timeout=2s"});
  ASSERT_TRUE(shoal.started()) << shoal.Log();
  std::optional<pid_t> pid = shoal.serving_pid();
  ASSERT_TRUE(pid);
  shoal.ReplaceBinaryWithScript("#!/bin/sh\nexec sleep 30\n");
  ASSERT_EQ(kill(*pid, SIGUSR2), 0);
  ASSERT_TRUE(WaitFor([&] { return shoal.Log().find("SIGUSR2: upgrading") != std::string::npos; },
                      seconds(10)));
  ASSERT_EQ(kill(*pid, SIGUSR2), 0);
  EXPECT_TRUE(WaitFor(
      [&] { return shoal.Log().find("an upgrade is already in progress") != std::string::npos; },
      seconds(10)))
      << shoal.Log();
  EXPECT_TRUE(WaitFor(
      [&] { return shoal.Metric("shoal_upgrades_total", {{"result", "failed"}}) == 1; },
      seconds(10)));
  EXPECT_EQ(shoal.serving_pid(), pid);
  EXPECT_TRUE(shoal.Stop(seconds(20)));
}

}  // namespace
}  // namespace shoal::testing
