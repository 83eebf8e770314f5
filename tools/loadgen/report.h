// Reports of a loadgen Result: the wrk-like text summary, JSON with every figure, the
// HdrHistogram percentile-distribution text (".hgrm", what HdrHistogram's plotters read), and the
// one-line live progress. Pure functions of their arguments.
#ifndef SHOAL_TOOLS_LOADGEN_REPORT_H_
#define SHOAL_TOOLS_LOADGEN_REPORT_H_

#include <cstdint>
#include <string>

#include "tools/loadgen/histogram.h"
#include "tools/loadgen/loadgen.h"

namespace shoal::loadgen {

// The percentiles every report shows.
inline constexpr double kReportPercentiles[] = {50, 90, 99, 99.9, 99.99};

// "812ns", "52.10us", "1.25ms", "2.00s": at most 2 decimals, unit chosen by magnitude.
std::string FormatLatency(double ns);
// "812B", "78.12KiB", "1.50MiB", "2.00GiB".
std::string FormatBytes(double bytes);

std::string FormatText(const Result& result);
std::string FormatJson(const Result& result);
// Values in milliseconds, as wrk2 and HdrHistogram's tools expect.
std::string FormatHgrm(const Histogram& histogram);
std::string FormatProgress(const Progress& progress, double previous_elapsed_s,
                           uint64_t previous_completed, uint64_t previous_bytes);

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_REPORT_H_
