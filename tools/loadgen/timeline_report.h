// The timeline's reports (pure functions of a Result run with options.timeline):
//  - FormatTimeline: one JSON object per line and per second of the load,
//      {"t": 3, "requests": 2000, "errors": {"total": 0, "connect": 0, ...}, "p50": 51200,
//       "p99": 98304, "max": 120000, "connections": 100}
//    t in seconds since the load began (warm-up included), latencies in ns (corrected, of the
//    requests that completed well in that second); the lines sum exactly to the run's totals.
//    A mark (--mark_signal) is a line of its own after the second it fell in:
//      {"t": 3.250000, "mark": 1}
//  - FormatIntervalLog: an HdrHistogram-style interval log, in the CSV layout of HdrHistogram's
//    HistogramLogProcessor: per interval (one second) and cumulative counts and percentiles, in ms.
#ifndef SHOAL_TOOLS_LOADGEN_TIMELINE_REPORT_H_
#define SHOAL_TOOLS_LOADGEN_TIMELINE_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tools/loadgen/loadgen.h"

namespace shoal::loadgen {

// `marks_ns`: CLOCK_MONOTONIC times of the marks, in any order.
std::string FormatTimeline(const Result& result, std::vector<int64_t> marks_ns);
std::string FormatIntervalLog(const Result& result);

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_TIMELINE_REPORT_H_
