#include "tools/loadgen/marks.h"

#include <signal.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace shoal::loadgen {

namespace {

std::array<std::atomic<int64_t>, kMaxMarks> g_marks{};
std::atomic<size_t> g_mark_count{0};

void OnMarkSignal(int) {
  const size_t index = g_mark_count.fetch_add(1, std::memory_order_relaxed);
  if (index >= kMaxMarks) return;
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  g_marks[index].store(static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec,
                       std::memory_order_release);
}

}  // namespace

absl::Status InstallMarkSignal(int signal) {
  struct sigaction action {};
  action.sa_handler = OnMarkSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  if (sigaction(signal, &action, nullptr) != 0) {
    return absl::InternalError(absl::StrCat("sigaction: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

std::vector<int64_t> MarksSoFar() {
  const size_t count = std::min(g_mark_count.load(std::memory_order_relaxed), kMaxMarks);
  std::vector<int64_t> marks;
  for (size_t i = 0; i < count; ++i) {
    const int64_t at = g_marks[i].load(std::memory_order_acquire);
    if (at != 0) marks.push_back(at);
  }
  return marks;
}

}  // namespace shoal::loadgen
