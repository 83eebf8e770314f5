// SourceLimiter: per-worker limits per client IP (IPv4, or IPv6 with IPv4-mapped addresses folded
// to IPv4): at most `max_connections` open connections and a token bucket of
// `rate_per_second` new connections per second (burst = one second's worth). The limits are per
// worker: with N workers a source may hold up to N x max_connections in the process.
//
// Memory is bounded: at most `max_entries` sources are tracked. A source with no open connection
// is kept (for its rate state) on an LRU list and is the first to go when a new source needs room;
// when every tracked source has open connections the new one is admitted untracked and counted in
// `untracked()` (only the rate/limit state is lost, never a connection).
//
// Admit and Release are O(1) (one hash lookup). Threading: the owning worker's thread only.
#ifndef SHOAL_CORE_SOURCE_LIMITER_H_
#define SHOAL_CORE_SOURCE_LIMITER_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "absl/container/node_hash_map.h"
#include "core/intrusive_list.h"
#include "core/socket.h"

namespace shoal::core {

struct SourceLimits {
  uint64_t max_connections = 0;  // 0 = no limit
  uint64_t rate_per_second = 0;  // 0 = no limit
  bool enabled() const { return max_connections != 0 || rate_per_second != 0; }
};

class SourceLimiter {
 public:
  enum class Verdict { kAdmit, kOverLimit, kOverRate };
  struct IdleTag {};
  struct Entry : IntrusiveListNode<IdleTag> {
    std::array<uint8_t, 16> key{};
    uint64_t open = 0;
    double tokens = 0;
    int64_t refilled_ns = 0;
  };

  explicit SourceLimiter(size_t max_entries = 65536) : max_entries_(max_entries) {}
  ~SourceLimiter();
  SourceLimiter(const SourceLimiter&) = delete;
  SourceLimiter& operator=(const SourceLimiter&) = delete;

  void set_limits(const SourceLimits& limits) { limits_ = limits; }
  const SourceLimits& limits() const { return limits_; }

  // Decides for a new connection from `peer` at `now_ns`. On kAdmit, `*entry` is the handle to give
  // to Release when the connection closes (nullptr when untracked or when no limit is set).
  Verdict Admit(const SocketAddress& peer, int64_t now_ns, Entry** entry);
  void Release(Entry* entry);

  size_t tracked() const { return entries_.size(); }
  uint64_t untracked() const { return untracked_; }

 private:
  Entry* FindOrInsert(const std::array<uint8_t, 16>& key, int64_t now_ns);

  size_t max_entries_;
  SourceLimits limits_;
  absl::node_hash_map<std::array<uint8_t, 16>, Entry> entries_;
  IntrusiveList<Entry, IdleTag> idle_;  // entries with no open connection, oldest first
  uint64_t untracked_ = 0;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_SOURCE_LIMITER_H_
