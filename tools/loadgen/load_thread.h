// LoadThread: one thread of a loadgen run: its EventLoop, its connections, its Pacer (open loop),
// its counters and histograms. Run (loadgen.cc) drives it through posted tasks:
//   BeginConnecting -> (all first connects resolved) -> BeginLoad -> (all connections done)
//   -> Shutdown
// and learns of each transition through RunControl.
//
// Threading: construct, AddConnection and Launch on the controlling thread; the Begin*/Shutdown
// methods run on the loop thread (post them); counters() may be read by the controlling thread
// only after Join, except counters().live.
#ifndef SHOAL_TOOLS_LOADGEN_LOAD_THREAD_H_
#define SHOAL_TOOLS_LOADGEN_LOAD_THREAD_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "core/event_loop.h"
#include "core/timer_wheel.h"
#include "tools/loadgen/client_connection.h"
#include "tools/loadgen/pacer.h"

namespace shoal::loadgen {

// How the threads report to the controlling thread.
struct RunControl {
  std::mutex mutex;
  std::condition_variable changed;
  int threads_connected = 0;  // threads whose every first connect attempt has resolved
  int threads_finished = 0;   // threads whose every connection is done

  void Count(int RunControl::*counter) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      ++(this->*counter);
    }
    changed.notify_all();
  }
};

class LoadThread final : public ConnectionHost {
 public:
  LoadThread(const RunPlan& plan, RunControl& control);
  ~LoadThread();
  LoadThread(const LoadThread&) = delete;
  LoadThread& operator=(const LoadThread&) = delete;

  // Creates the loop (and the pacer for the open loop).
  absl::Status Init();
  // `tls_peer`: with TLS, the target's (outlives the thread); else nullptr.
  void AddConnection(uint64_t id, const core::SocketAddress& target, int64_t quota,
                     const TlsPeer* tls_peer);
  void Launch();
  void Join();
  core::EventLoop& event_loop() { return *loop_; }

  // --- On the loop thread ---
  void BeginConnecting();
  // The timeline of the run (copied into this thread's plan), then the load starts.
  void BeginLoad(int64_t start_ns, int64_t measure_start_ns, int64_t measure_end_ns);
  void Shutdown();

  // ConnectionHost.
  core::EventLoop& loop() override { return *loop_; }
  Pacer* pacer() override { return pacer_.get(); }
  const RunPlan& plan() const override { return plan_; }
  ThreadCounters& counters() override { return *counters_; }
  char* read_scratch() override { return scratch_.data(); }
  size_t read_scratch_bytes() const override { return scratch_.size(); }
  bool load_started() const override { return load_started_; }
  bool stopping() const override { return stopping_; }
  int64_t ReserveConnectSlot(int64_t now_ns) override;
  void OnFirstConnectResolved(ClientConnection& connection) override;
  void OnDone(ClientConnection& connection) override;

 private:
  class EndTimer final : public core::Timer {
   public:
    explicit EndTimer(LoadThread& thread) : thread_(thread) {}
    ~EndTimer() override = default;

   private:
    void OnExpire() override { thread_.Stop(); }
    LoadThread& thread_;
  };

  void StartPendingConnects();
  void Stop();

  RunPlan plan_;
  RunControl& control_;
  std::unique_ptr<core::EventLoop> loop_;
  std::unique_ptr<Pacer> pacer_;
  std::unique_ptr<ThreadCounters> counters_;
  std::vector<char> scratch_;
  struct PendingConnection {
    uint64_t id;
    core::SocketAddress target;
    int64_t quota;
    const TlsPeer* tls_peer;
  };
  std::vector<PendingConnection> pending_;
  std::vector<std::unique_ptr<ClientConnection>> connections_;
  EndTimer end_timer_{*this};
  std::thread thread_;
  int64_t next_connect_slot_ns_ = 0;
  size_t started_ = 0;
  size_t resolved_ = 0;
  size_t done_ = 0;
  bool starting_ = false;
  bool load_started_ = false;
  bool stopping_ = false;
  bool finished_reported_ = false;
};

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_LOAD_THREAD_H_
