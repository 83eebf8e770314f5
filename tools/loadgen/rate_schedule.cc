#include "tools/loadgen/rate_schedule.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace shoal::loadgen {

namespace {

double Seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

// Slots in the first `t` seconds of a phase.
double SlotsWithin(const RatePhase& phase, double t) {
  const double slope = (phase.to - phase.from) / Seconds(phase.duration_ns);
  return phase.from * t + slope * t * t / 2;
}

// The time (s) into a phase at which `n` slots have been due; +inf when the rate stays 0.
double TimeWithin(const RatePhase& phase, double n) {
  const double a = phase.from;
  const double slope = (phase.to - phase.from) / Seconds(phase.duration_ns);
  if (n <= 0) return 0;
  if (slope == 0) return a > 0 ? n / a : INFINITY;
  const double discriminant = a * a + 2 * slope * n;
  if (discriminant < 0) return INFINITY;
  return 2 * n / (a + std::sqrt(discriminant));  // the stable root of slope/2 t^2 + a t - n = 0
}

absl::StatusOr<double> ParseRate(std::string_view text) {
  double rate = 0;
  if (!absl::SimpleAtod(absl::string_view(text.data(), text.size()), &rate) ||
      !std::isfinite(rate) || rate < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", std::string(text), "' is not a rate (requests/s >= 0)"));
  }
  return rate;
}

std::string FormatRate(double rate) { return absl::StrFormat("%g", rate); }

}  // namespace

RateSchedule::RateSchedule(double rate) : final_rate_(rate), ns_per_slot_(rate > 0 ? 1e9 / rate : 0) {}

absl::StatusOr<RateSchedule> RateSchedule::FromPhases(std::vector<RatePhase> phases) {
  RateSchedule schedule;
  double slots = 0;
  for (const auto& phase : phases) {
    if (phase.duration_ns <= 0 || phase.from < 0 || phase.to < 0 || !std::isfinite(phase.from) ||
        !std::isfinite(phase.to)) {
      return absl::InvalidArgumentError("a rate phase needs rates >= 0 and a duration > 0");
    }
    schedule.slots_at_start_.push_back(slots);
    slots += SlotsWithin(phase, Seconds(phase.duration_ns));
  }
  schedule.slots_at_start_.push_back(slots);
  if (!phases.empty()) schedule.final_rate_ = phases.back().to;
  schedule.phases_ = std::move(phases);
  return schedule;
}

absl::StatusOr<RateSchedule> RateSchedule::Parse(std::string_view text) {
  const absl::string_view whole(text.data(), text.size());
  if (whole.find(':') == absl::string_view::npos) {
    auto rate = ParseRate(text);
    if (!rate.ok()) return rate.status();
    return RateSchedule(*rate);
  }
  std::vector<RatePhase> phases;
  for (absl::string_view part : absl::StrSplit(whole, ',')) {
    std::vector<absl::string_view> fields = absl::StrSplit(part, ':');
    if (fields.size() != 2 && fields.size() != 3) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", std::string(part), "' is not R:DURATION or A:B:DURATION"));
    }
    RatePhase phase;
    auto from = ParseRate(std::string_view(fields[0].data(), fields[0].size()));
    if (!from.ok()) return from.status();
    phase.from = phase.to = *from;
    if (fields.size() == 3) {
      auto to = ParseRate(std::string_view(fields[1].data(), fields[1].size()));
      if (!to.ok()) return to.status();
      phase.to = *to;
    }
    absl::Duration duration;
    if (!absl::ParseDuration(fields.back(), &duration) || duration <= absl::ZeroDuration() ||
        duration == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", std::string(fields.back()), "' is not a duration > 0 (e.g. 10s)"));
    }
    phase.duration_ns = absl::ToInt64Nanoseconds(duration);
    phases.push_back(phase);
  }
  return FromPhases(std::move(phases));
}

double RateSchedule::peak_rate() const {
  double peak = final_rate_;
  for (const auto& phase : phases_) peak = std::max({peak, phase.from, phase.to});
  return peak;
}

int64_t RateSchedule::length_ns() const {
  int64_t total = 0;
  for (const auto& phase : phases_) total += phase.duration_ns;
  return total;
}

RateSchedule RateSchedule::WithLeadIn(int64_t lead_in_ns) const {
  if (lead_in_ns <= 0 || phases_.empty()) return *this;
  std::vector<RatePhase> phases = phases_;
  const double first = initial_rate();
  phases.insert(phases.begin(), RatePhase{first, first, lead_in_ns});
  return *FromPhases(std::move(phases));
}

int64_t RateSchedule::SlotOffsetNs(uint64_t slot) const {
  const double s = static_cast<double>(slot);
  if (phases_.empty()) {
    if (final_rate_ <= 0) return kNever;
    return static_cast<int64_t>(s * ns_per_slot_);
  }
  // The phase in which the slot falls: the last one starting at or before it.
  auto next = std::upper_bound(slots_at_start_.begin(), slots_at_start_.end() - 1, s);
  const size_t index = static_cast<size_t>(next - slots_at_start_.begin()) - 1;
  int64_t phase_start_ns = 0;
  for (size_t i = 0; i < index; ++i) phase_start_ns += phases_[i].duration_ns;
  if (index < phases_.size() && s < slots_at_start_[index + 1]) {
    const double t = TimeWithin(phases_[index], s - slots_at_start_[index]);
    return std::isfinite(t) ? phase_start_ns + static_cast<int64_t>(t * 1e9) : kNever;
  }
  // After the phases: the final rate holds.
  if (final_rate_ <= 0) return kNever;
  const int64_t end_ns = length_ns();
  return end_ns + static_cast<int64_t>((s - slots_at_start_.back()) * 1e9 / final_rate_);
}

uint64_t RateSchedule::SlotsBefore(int64_t offset_ns) const {
  if (offset_ns <= 0) return 0;
  double slots = 0;
  if (phases_.empty()) {
    slots = Seconds(offset_ns) * final_rate_;
  } else {
    int64_t phase_start_ns = 0;
    size_t i = 0;
    for (; i < phases_.size() && phase_start_ns + phases_[i].duration_ns <= offset_ns; ++i) {
      phase_start_ns += phases_[i].duration_ns;
    }
    if (i < phases_.size()) {
      slots = slots_at_start_[i] + SlotsWithin(phases_[i], Seconds(offset_ns - phase_start_ns));
    } else {
      slots = slots_at_start_.back() + Seconds(offset_ns - phase_start_ns) * final_rate_;
    }
  }
  return static_cast<uint64_t>(std::ceil(slots - 1e-9));
}

std::string RateSchedule::ToString() const {
  if (phases_.empty()) return FormatRate(final_rate_);
  std::string out;
  for (const auto& phase : phases_) {
    absl::StrAppend(&out, out.empty() ? "" : ",", FormatRate(phase.from));
    if (phase.to != phase.from) absl::StrAppend(&out, ":", FormatRate(phase.to));
    absl::StrAppend(&out, ":", absl::FormatDuration(absl::Nanoseconds(phase.duration_ns)));
  }
  return out;
}

}  // namespace shoal::loadgen
