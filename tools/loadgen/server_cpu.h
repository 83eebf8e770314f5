// The server's CPU time, read at the start and the end of the measurement window so loadgen can
// report the server's CPU microseconds per request (--server_pid, --server_metrics): the figure
// users pay for, and one that does not depend on the client's speed.
//   --server_pid=PID      utime + stime of /proc/PID/stat (every thread of the process; 10 ms
//                         ticks, so a window of seconds is needed)
//   --server_metrics=URL  process_cpu_seconds_total of a Prometheus endpoint over plain HTTP
//                         (http://HOST:PORT/PATH, a numeric host), fetched with a 5 s timeout
//
// Threading: the sampler blocks the calling thread (a file read or one HTTP request).
#ifndef SHOAL_TOOLS_LOADGEN_SERVER_CPU_H_
#define SHOAL_TOOLS_LOADGEN_SERVER_CPU_H_

#include <functional>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "absl/status/statusor.h"

namespace shoal::loadgen {

// Returns the server's cumulative CPU seconds now.
using CpuSampler = std::function<absl::StatusOr<double>()>;

CpuSampler ProcCpuSampler(pid_t pid);
CpuSampler MetricsCpuSampler(std::string url);

// process_cpu_seconds_total in a text exposition (the first sample of that name).
absl::StatusOr<double> ParseProcessCpuSeconds(std::string_view exposition);

}  // namespace shoal::loadgen

#endif  // SHOAL_TOOLS_LOADGEN_SERVER_CPU_H_
