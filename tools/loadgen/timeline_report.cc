#include "tools/loadgen/timeline_report.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace shoal::loadgen {

namespace {

std::string ErrorsJson(const ErrorCounts& errors) {
  std::string out = absl::StrCat("{\"total\": ", errors.total());
  errors.ForEachKind([&out](std::string_view name, uint64_t count) {
    absl::StrAppend(&out, ", \"", absl::string_view(name.data(), name.size()), "\": ", count);
  });
  return out + "}";
}

std::string Ms(int64_t ns) { return absl::StrFormat("%.3f", static_cast<double>(ns) / 1e6); }

}  // namespace

std::string FormatTimeline(const Result& result, std::vector<int64_t> marks_ns) {
  std::sort(marks_ns.begin(), marks_ns.end());
  const auto& seconds = result.timeline.seconds();
  std::string out;
  size_t next_mark = 0;
  int mark_number = 0;
  auto append_marks_before = [&](int64_t end_ns) {
    for (; next_mark < marks_ns.size() && marks_ns[next_mark] < end_ns; ++next_mark) {
      const double t = static_cast<double>(marks_ns[next_mark] - result.start_ns) / 1e9;
      absl::StrAppend(&out, absl::StrFormat("{\"t\": %.6f, \"mark\": %d}\n", t, ++mark_number));
    }
  };
  for (size_t k = 0; k < seconds.size(); ++k) {
    const TimelineSecond& second = seconds[k];
    absl::StrAppend(&out, absl::StrFormat("{\"t\": %d, \"requests\": %d, \"errors\": %s, "
                                          "\"p50\": %d, \"p99\": %d, \"max\": %d, "
                                          "\"connections\": %d}\n",
                                          k, second.requests, ErrorsJson(second.errors),
                                          second.latency.ValueAtPercentile(50),
                                          second.latency.ValueAtPercentile(99),
                                          second.latency.max(), second.connections));
    append_marks_before(result.start_ns + static_cast<int64_t>(k + 1) * Timeline::kSecondNs);
  }
  append_marks_before(std::numeric_limits<int64_t>::max());
  return out;
}

std::string FormatIntervalLog(const Result& result) {
  std::string out = "#[loadgen interval log: corrected latency, ms; one interval a second]\n";
  absl::StrAppend(&out, absl::StrFormat("#[Protocol %s, %d connections, rate %s]\n",
                                        result.options.protocol, result.options.connections,
                                        result.options.rate.ToString()));
  absl::StrAppend(&out,
                  "\"Timestamp\",\"Int_Count\",\"Int_50%\",\"Int_90%\",\"Int_Max\",\"Total_Count\","
                  "\"Total_50%\",\"Total_90%\",\"Total_99%\",\"Total_99.9%\",\"Total_99.99%\","
                  "\"Total_Max\"\n");
  Histogram total(Histogram::kOneHourNs, TimelineSecond::kDigits);
  const auto& seconds = result.timeline.seconds();
  for (size_t k = 0; k < seconds.size(); ++k) {
    const Histogram& interval = seconds[k].latency;
    total.Merge(interval);
    absl::StrAppend(&out, absl::StrFormat(
                              "%.3f,%d,%s,%s,%s,%d,%s,%s,%s,%s,%s,%s\n", static_cast<double>(k + 1),
                              interval.count(), Ms(interval.ValueAtPercentile(50)),
                              Ms(interval.ValueAtPercentile(90)), Ms(interval.max()),
                              total.count(), Ms(total.ValueAtPercentile(50)),
                              Ms(total.ValueAtPercentile(90)), Ms(total.ValueAtPercentile(99)),
                              Ms(total.ValueAtPercentile(99.9)), Ms(total.ValueAtPercentile(99.99)),
                              Ms(total.max())));
  }
  return out;
}

}  // namespace shoal::loadgen
