// ProcessCollector: the standard process_* families, with the names and meanings of the official
// Prometheus client libraries, read from procfs at every scrape:
//   process_cpu_seconds_total      counter  user + system CPU time (/proc/self/stat utime+stime)
//   process_resident_memory_bytes  gauge    resident set size (stat rss * page size)
//   process_virtual_memory_bytes   gauge    virtual memory size (stat vsize)
//   process_open_fds               gauge    open descriptors: st_size of /proc/self/fd (Linux 6.2+,
//                                           O(1)), else the number of its entries
//   process_max_fds                gauge    soft "Max open files" of /proc/self/limits
//   process_start_time_seconds     gauge    start time, seconds since the Unix epoch
//                                           (/proc/stat btime + stat starttime)
// A value that cannot be read is left out of that scrape (nothing is cached between scrapes).
//
// Threading: Collect may run on any thread; it only reads files.
#ifndef SHOAL_METRICS_PROCESS_COLLECTOR_H_
#define SHOAL_METRICS_PROCESS_COLLECTOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace shoal::metrics {

// The fields of /proc/<pid>/stat we use (proc(5) field numbers in comments).
struct ProcStat {
  uint64_t utime_ticks = 0;      // 14
  uint64_t stime_ticks = 0;      // 15
  uint64_t starttime_ticks = 0;  // 22, clock ticks after boot
  uint64_t vsize_bytes = 0;      // 23
  int64_t rss_pages = 0;         // 24
};

// Parses the one line of /proc/<pid>/stat. The command name (field 2) may hold spaces and
// parentheses; parsing resumes after its last ')'. nullopt if the line is malformed.
std::optional<ProcStat> ParseProcStat(std::string_view text);
// The "btime" (boot time, seconds since the epoch) line of /proc/stat.
std::optional<uint64_t> ParseBootTime(std::string_view proc_stat);
// The soft limit of the "Max open files" line of /proc/<pid>/limits; nullopt for "unlimited".
std::optional<uint64_t> ParseMaxOpenFiles(std::string_view limits);

// The values of one scrape; a value that could not be read is nullopt.
struct ProcessStats {
  std::optional<double> cpu_seconds;
  std::optional<double> resident_memory_bytes;
  std::optional<double> virtual_memory_bytes;
  std::optional<double> open_fds;
  std::optional<double> max_fds;
  std::optional<double> start_time_seconds;
};

class ProcessCollector final : public prometheus::Collectable {
 public:
  // Reads `proc_root`/self/{stat,limits,fd} and `proc_root`/stat. Tests pass a fake tree.
  explicit ProcessCollector(std::string proc_root = "/proc");

  ProcessStats Read() const;
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string proc_root_;
  int64_t ticks_per_second_;
  int64_t page_size_;
};

}  // namespace shoal::metrics

#endif  // SHOAL_METRICS_PROCESS_COLLECTOR_H_
