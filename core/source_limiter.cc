#include "core/source_limiter.h"

#include <algorithm>
#include <cstring>

namespace shoal::core {

namespace {

// The address bytes of `peer`: IPv6 as is, IPv4 as its IPv4-mapped IPv6 form, so a dual-stack
// listener counts one client once whichever family it arrives with.
std::array<uint8_t, 16> SourceKey(const SocketAddress& peer) {
  std::array<uint8_t, 16> key{};
  if (peer.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(peer.sockaddr_ptr());
    std::memcpy(key.data(), &in6->sin6_addr, key.size());
  } else if (peer.family() == AF_INET) {
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(peer.sockaddr_ptr());
    key[10] = key[11] = 0xff;
    std::memcpy(key.data() + 12, &in4->sin_addr, 4);
  }
  return key;
}

}  // namespace

SourceLimiter::~SourceLimiter() {
  while (idle_.PopFront() != nullptr) {
  }
}

SourceLimiter::Entry* SourceLimiter::FindOrInsert(const std::array<uint8_t, 16>& key,
                                                  int64_t now_ns) {
  if (auto it = entries_.find(key); it != entries_.end()) return &it->second;
  if (entries_.size() >= max_entries_) {
    Entry* oldest = idle_.PopFront();
    if (oldest == nullptr) return nullptr;
    entries_.erase(oldest->key);
  }
  Entry& entry = entries_[key];
  entry.key = key;
  entry.tokens = static_cast<double>(limits_.rate_per_second);
  entry.refilled_ns = now_ns;
  idle_.PushBack(&entry);
  return &entry;
}

SourceLimiter::Verdict SourceLimiter::Admit(const SocketAddress& peer, int64_t now_ns,
                                            Entry** handle) {
  *handle = nullptr;
  if (!limits_.enabled()) return Verdict::kAdmit;
  Entry* entry = FindOrInsert(SourceKey(peer), now_ns);
  if (entry == nullptr) {
    ++untracked_;
    return Verdict::kAdmit;
  }
  if (limits_.max_connections != 0 && entry->open >= limits_.max_connections) {
    return Verdict::kOverLimit;
  }
  if (limits_.rate_per_second != 0) {
    const double burst = static_cast<double>(limits_.rate_per_second);
    const int64_t elapsed_ns = std::max<int64_t>(0, now_ns - entry->refilled_ns);
    const double elapsed_s = static_cast<double>(elapsed_ns) / 1e9;
    entry->tokens = std::min(burst, entry->tokens + elapsed_s * burst);
    entry->refilled_ns = now_ns;
    if (entry->tokens < 1) return Verdict::kOverRate;
    entry->tokens -= 1;
  }
  if (entry->open++ == 0) idle_.Remove(entry);
  *handle = entry;
  return Verdict::kAdmit;
}

void SourceLimiter::Release(Entry* entry) {
  if (entry == nullptr) return;
  if (--entry->open == 0) idle_.PushBack(entry);
}

}  // namespace shoal::core
