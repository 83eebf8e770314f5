// A run's result in the Prometheus text exposition format (--prometheus_out), for CI dashboards:
// one gauge or counter per figure, labelled with the protocol, plus the max-rate search's answer
// when there was one. Pure function.
#ifndef SHOAL_TOOLS_LOADGEN_PROMETHEUS_REPORT_H_
#define SHOAL_TOOLS_LOADGEN_PROMETHEUS_REPORT_H_

#include <optional>
#include <string>

#include "tools/loadgen/loadgen.h"

namespace shoal::loadgen {

struct PrometheusExtras {
  std::optional<double> max_rate;        // --find_max_rate's answer
  std::string slo;                       // ... and its SLO, as written
  std::optional<bool> assertions_passed; // --assert's verdict
};

std::string FormatPrometheus(const Result& result, const PrometheusExtras& extras = {});

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_PROMETHEUS_REPORT_H_
