#include "core/timer_wheel.h"

#include <algorithm>
#include <bit>
#include <functional>
#include <limits>

namespace shoal::core {
namespace {

using Link = timer_wheel_internal::Link;

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
constexpr uint64_t kNoTick = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kDigitMask = TimerWheel::kSlotsPerLevel - 1;

uint64_t DigitAt(uint64_t tick, int level) {
  return (tick >> (level * TimerWheel::kSlotBits)) & kDigitMask;
}

uint64_t WithDigit(uint64_t tick, int level, uint64_t digit) {
  const int shift = level * TimerWheel::kSlotBits;
  const int parent_shift = shift + TimerWheel::kSlotBits;
  const uint64_t parent = parent_shift >= 64 ? 0 : tick >> parent_shift << parent_shift;
  return parent | (digit << shift);
}

uint64_t SlotsAbove(uint64_t occupied, uint64_t digit) {
  return digit + 1 >= TimerWheel::kSlotsPerLevel ? 0 : occupied & (~uint64_t{0} << (digit + 1));
}

void InitList(Link* head) { head->wheel_prev = head->wheel_next = head; }

bool IsEmpty(const Link* head) { return head->wheel_next == head; }

void Append(Link* head, Link* node) {
  node->wheel_prev = head->wheel_prev;
  node->wheel_next = head;
  head->wheel_prev->wheel_next = node;
  head->wheel_prev = node;
}

// Moves every node of `from` to the end of `to`.
void SpliceAll(Link* from, Link* to) {
  if (IsEmpty(from)) return;
  Link* first = from->wheel_next;
  Link* last = from->wheel_prev;
  first->wheel_prev = to->wheel_prev;
  to->wheel_prev->wheel_next = first;
  last->wheel_next = to;
  to->wheel_prev = last;
  InitList(from);
}

void ReleaseAll(Link* head) {
  for (Link* node = head->wheel_next; node != head;) {
    Link* next = node->wheel_next;
    node->wheel_prev = node->wheel_next = nullptr;
    node = next;
  }
  InitList(head);
}

// Stable merge of two null-terminated singly linked runs; `older` wins ties.
template <typename Key>
Link* MergeRuns(Link* older, Link* newer, Key key) {
  Link head;
  Link* tail = &head;
  while (older != nullptr && newer != nullptr) {
    // Branch-free selects: with random deadlines a branch here mispredicts half the time.
    const bool take_newer = key(newer) < key(older);
    Link* taken = take_newer ? newer : older;
    Link* after = taken->wheel_next;
    newer = take_newer ? after : newer;
    older = take_newer ? older : after;
    tail->wheel_next = taken;
    tail = taken;
  }
  tail->wheel_next = older != nullptr ? older : newer;
  return head.wheel_next;
}

template <typename Key>
bool IsSorted(const Link* head, Key key) {
  for (const Link* node = head->wheel_next; node->wheel_next != head; node = node->wheel_next) {
    if (key(node->wheel_next) < key(node)) return false;
  }
  return true;
}

// Stable bottom-up merge sort of a circular list, like a binary counter of sorted runs.
template <typename Key>
void StableSort(Link* head, Key key) {
  if (IsEmpty(head) || IsSorted(head, key)) return;
  std::array<Link*, 64> runs{};
  head->wheel_prev->wheel_next = nullptr;
  for (Link* node = head->wheel_next; node != nullptr;) {
    Link* carry = node;
    node = node->wheel_next;
    carry->wheel_next = nullptr;
    size_t i = 0;
    for (; runs[i] != nullptr; ++i) {
      carry = MergeRuns(runs[i], carry, key);
      runs[i] = nullptr;
    }
    runs[i] = carry;
  }
  Link* sorted = nullptr;
  for (Link* run : runs) {
    if (run != nullptr) sorted = sorted == nullptr ? run : MergeRuns(run, sorted, key);
  }
  Link* prev = head;
  for (Link* node = sorted; node != nullptr; node = node->wheel_next) {
    prev->wheel_next = node;
    node->wheel_prev = prev;
    prev = node;
  }
  prev->wheel_next = head;
  head->wheel_prev = prev;
}

}  // namespace

TimerWheel::TimerWheel(int64_t tick_ns, int64_t now_ns)
    : tick_ns_(tick_ns), current_tick_(static_cast<uint64_t>(now_ns / tick_ns) + 1) {
  assert(tick_ns > 0 && now_ns >= 0);
  level0_min_deadline_.fill(kNever);
  for (Link& slot : slots_) InitList(&slot);
  InitList(&firing_);
  InitList(&deferred_);
}

TimerWheel::~TimerWheel() {
  for (Link& slot : slots_) ReleaseAll(&slot);
  ReleaseAll(&firing_);
  ReleaseAll(&deferred_);
}

void TimerWheel::SortByDeadline(Link* head) {
  StableSort(head, [](const Link* link) { return DeadlineOf(link); });
}

uint64_t TimerWheel::TickOf(int64_t deadline_ns) const {
  return deadline_ns <= 0 ? 0 : static_cast<uint64_t>((deadline_ns - 1) / tick_ns_) + 1;
}

int64_t TimerWheel::TickEndNs(uint64_t tick) const {
  const auto max_tick = static_cast<uint64_t>(kNever / tick_ns_);
  return tick > max_tick ? kNever : static_cast<int64_t>(tick) * tick_ns_;
}

void TimerWheel::AppendToSlot(int level, uint64_t digit, Link* node) {
  Append(Slot(level, digit), node);
  occupied_[level] |= uint64_t{1} << digit;
}

void TimerWheel::Unlink(Link* node) {
  Link* prev = node->wheel_prev;
  Link* next = node->wheel_next;
  prev->wheel_next = next;
  next->wheel_prev = prev;
  node->wheel_prev = node->wheel_next = nullptr;
  if (prev != next) return;
  // `prev` is now an empty list head; if it is a slot, mark it empty.
  const std::less<const Link*> before;
  if (before(prev, slots_.data()) || !before(prev, slots_.data() + slots_.size())) return;
  const auto index = static_cast<size_t>(prev - slots_.data());
  const auto level = index / kSlotsPerLevel;
  const auto digit = index % kSlotsPerLevel;
  occupied_[level] &= ~(uint64_t{1} << digit);
  if (level == 0) level0_min_deadline_[digit] = kNever;
}

void TimerWheel::Schedule(Timer* t, int64_t deadline_ns) {
  if (t->scheduled()) {
    Unlink(t);
  } else {
    ++size_;
  }
  t->deadline_ns_ = deadline_ns;
  if (advancing_) {
    Append(&deferred_, t);
  } else {
    Place(t);
  }
}

void TimerWheel::Cancel(Timer* t) {
  if (!t->scheduled()) return;
  Unlink(t);
  --size_;
}

void TimerWheel::Place(Timer* t) {
  const uint64_t tick = std::max(TickOf(t->deadline_ns_), current_tick_);
  const uint64_t differing_bits = tick ^ current_tick_;
  const int level = differing_bits == 0 ? 0 : (63 - std::countl_zero(differing_bits)) / kSlotBits;
  const uint64_t digit = DigitAt(tick, level);
  AppendToSlot(level, digit, t);
  if (level == 0) {
    level0_min_deadline_[digit] = std::min(level0_min_deadline_[digit], t->deadline_ns_);
  }
}

size_t TimerWheel::Advance(int64_t now_ns) {
  assert(!advancing_ && "TimerWheel::Advance is not reentrant");
  advancing_ = true;
  size_t fired = 0;
  const uint64_t first_unelapsed_tick = now_ns < 0 ? 0 : static_cast<uint64_t>(now_ns / tick_ns_) + 1;
  while (current_tick_ < first_unelapsed_tick) {
    fired += FireCurrentTick(kNever);
    MoveTo(std::min(NextEvent().tick, first_unelapsed_tick));
  }
  if (level0_min_deadline_[current_tick_ & kDigitMask] <= now_ns) fired += FireCurrentTick(now_ns);
  while (!IsEmpty(&deferred_)) {
    Timer* t = AsTimer(deferred_.wheel_next);
    Unlink(t);
    Place(t);
  }
  advancing_ = false;
  return fired;
}

size_t TimerWheel::FireCurrentTick(int64_t limit_ns) {
  const uint64_t digit = current_tick_ & kDigitMask;
  Link* slot = Slot(0, digit);
  if (IsEmpty(slot)) return 0;
  SpliceAll(slot, &firing_);
  occupied_[0] &= ~(uint64_t{1} << digit);
  SortByDeadline(&firing_);
  size_t fired = 0;
  while (!IsEmpty(&firing_) && DeadlineOf(firing_.wheel_next) <= limit_ns) {
    Timer* t = AsTimer(firing_.wheel_next);
    Unlink(t);
    --size_;
    ++fired;
    t->OnExpire();
  }
  level0_min_deadline_[digit] = IsEmpty(&firing_) ? kNever : DeadlineOf(firing_.wheel_next);
  if (!IsEmpty(&firing_)) {
    SpliceAll(&firing_, slot);
    occupied_[0] |= uint64_t{1} << digit;
  }
  return fired;
}

// The first tick after current_tick_ at which a level-0 slot fires or a higher slot cascades.
TimerWheel::Event TimerWheel::NextEvent() const {
  for (int level = 0; level < kLevels; ++level) {
    const uint64_t later = SlotsAbove(occupied_[level], DigitAt(current_tick_, level));
    if (later != 0) {
      return {WithDigit(current_tick_, level, static_cast<uint64_t>(std::countr_zero(later))), level > 0};
    }
  }
  return {kNoTick, false};
}

void TimerWheel::MoveTo(uint64_t tick) {
  const uint64_t previous = current_tick_;
  current_tick_ = tick;
  for (int level = kLevels - 1; level > 0; --level) {
    const int shift = level * kSlotBits;
    if ((tick >> shift) == (previous >> shift)) continue;
    const uint64_t digit = DigitAt(tick, level);
    if ((occupied_[level] >> digit & 1) != 0) Cascade(level, digit);
  }
}

void TimerWheel::Cascade(int level, uint64_t digit) {
  Link pending;
  InitList(&pending);
  SpliceAll(Slot(level, digit), &pending);
  occupied_[level] &= ~(uint64_t{1} << digit);
  while (!IsEmpty(&pending)) {
    Timer* t = AsTimer(pending.wheel_next);
    Unlink(t);
    Place(t);
  }
}

int64_t TimerWheel::NextWorkDelayNs(int64_t now_ns) const {
  if (size_ == 0) return -1;
  if (!IsEmpty(&deferred_)) return 0;
  const uint64_t digit = current_tick_ & kDigitMask;
  int64_t wake_ns;
  if ((occupied_[0] >> digit & 1) != 0) {
    wake_ns = std::min(TickEndNs(current_tick_), level0_min_deadline_[digit] <= now_ns ? now_ns : kNever);
  } else {
    const Event next = NextEvent();
    if (next.tick == kNoTick) return -1;
    if (next.cascade) {
      wake_ns = TickEndNs(next.tick - 1);
    } else {
      const int64_t min_deadline = level0_min_deadline_[next.tick & kDigitMask];
      wake_ns = min_deadline <= now_ns ? now_ns : TickEndNs(next.tick);
    }
  }
  return wake_ns <= now_ns ? 0 : wake_ns - now_ns;
}

}  // namespace shoal::core
