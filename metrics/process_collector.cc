#include "metrics/process_collector.h"

#include <dirent.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <utility>

#include "prometheus/metric_type.h"

namespace shoal::metrics {

namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return out.str();
}

// Splits on runs of spaces/tabs/newlines.
std::vector<std::string_view> Fields(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n') ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  return fields;
}

template <typename T>
std::optional<T> ParseNumber(std::string_view text) {
  T value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The lines of `text`, in order.
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

std::optional<double> CountDirectoryEntries(const std::string& path) {
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return std::nullopt;
  double count = 0;
  while (const dirent* entry = readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") ++count;
  }
  closedir(dir);
  return count;
}

// Open descriptors: on procfs since Linux 6.2, stat() of /proc/<pid>/fd gives the count in st_size
// (O(1), where listing 10k entries takes milliseconds); otherwise count the entries.
std::optional<double> CountOpenFds(const std::string& path) {
  struct statfs fs {};
  struct stat st {};
  if (statfs(path.c_str(), &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC &&
      stat(path.c_str(), &st) == 0 && st.st_size > 0) {
    return static_cast<double>(st.st_size);
  }
  return CountDirectoryEntries(path);
}

prometheus::MetricFamily Single(std::string name, std::string help, prometheus::MetricType type,
                                double value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

}  // namespace

std::optional<ProcStat> ParseProcStat(std::string_view text) {
  size_t paren = text.rfind(')');
  if (paren == std::string_view::npos) return std::nullopt;
  // Fields after the command name start at field 3 (state).
  std::vector<std::string_view> fields = Fields(text.substr(paren + 1));
  auto field = [&](int number) -> std::string_view {
    size_t index = static_cast<size_t>(number - 3);
    return index < fields.size() ? fields[index] : std::string_view();
  };
  auto utime = ParseNumber<uint64_t>(field(14));
  auto stime = ParseNumber<uint64_t>(field(15));
  auto starttime = ParseNumber<uint64_t>(field(22));
  auto vsize = ParseNumber<uint64_t>(field(23));
  auto rss = ParseNumber<int64_t>(field(24));
  if (!utime || !stime || !starttime || !vsize || !rss) return std::nullopt;
  return ProcStat{*utime, *stime, *starttime, *vsize, *rss};
}

std::optional<uint64_t> ParseBootTime(std::string_view proc_stat) {
  for (std::string_view line : Lines(proc_stat)) {
    std::vector<std::string_view> fields = Fields(line);
    if (fields.size() == 2 && fields[0] == "btime") return ParseNumber<uint64_t>(fields[1]);
  }
  return std::nullopt;
}

std::optional<uint64_t> ParseMaxOpenFiles(std::string_view limits) {
  constexpr std::string_view kPrefix = "Max open files";
  for (std::string_view line : Lines(limits)) {
    if (line.substr(0, kPrefix.size()) != kPrefix) continue;
    std::vector<std::string_view> fields = Fields(line.substr(kPrefix.size()));
    if (fields.empty()) return std::nullopt;
    return ParseNumber<uint64_t>(fields[0]);  // "unlimited" does not parse
  }
  return std::nullopt;
}

ProcessCollector::ProcessCollector(std::string proc_root)
    : proc_root_(std::move(proc_root)),
      ticks_per_second_(sysconf(_SC_CLK_TCK)),
      page_size_(sysconf(_SC_PAGESIZE)) {}

ProcessStats ProcessCollector::Read() const {
  ProcessStats stats;
  std::optional<ProcStat> stat;
  if (auto text = ReadFile(proc_root_ + "/self/stat")) stat = ParseProcStat(*text);
  std::optional<uint64_t> boot_time;
  if (auto text = ReadFile(proc_root_ + "/stat")) boot_time = ParseBootTime(*text);
  if (stat && ticks_per_second_ > 0) {
    double ticks = static_cast<double>(ticks_per_second_);
    stats.cpu_seconds = static_cast<double>(stat->utime_ticks + stat->stime_ticks) / ticks;
    if (boot_time) {
      stats.start_time_seconds =
          static_cast<double>(*boot_time) + static_cast<double>(stat->starttime_ticks) / ticks;
    }
  }
  if (stat) {
    stats.resident_memory_bytes =
        static_cast<double>(stat->rss_pages) * static_cast<double>(page_size_);
    stats.virtual_memory_bytes = static_cast<double>(stat->vsize_bytes);
  }
  stats.open_fds = CountOpenFds(proc_root_ + "/self/fd");
  if (auto text = ReadFile(proc_root_ + "/self/limits")) {
    if (auto max = ParseMaxOpenFiles(*text)) stats.max_fds = static_cast<double>(*max);
  }
  return stats;
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  ProcessStats stats = Read();
  std::vector<prometheus::MetricFamily> families;
  if (stats.cpu_seconds) {
    families.push_back(Single("process_cpu_seconds_total",
                              "Total user and system CPU time spent in seconds.",
                              MetricType::Counter, *stats.cpu_seconds));
  }
  if (stats.open_fds) {
    families.push_back(Single("process_open_fds", "Number of open file descriptors.",
                              MetricType::Gauge, *stats.open_fds));
  }
  if (stats.max_fds) {
    families.push_back(Single("process_max_fds", "Maximum number of open file descriptors.",
                              MetricType::Gauge, *stats.max_fds));
  }
  if (stats.virtual_memory_bytes) {
    families.push_back(Single("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                              MetricType::Gauge, *stats.virtual_memory_bytes));
  }
  if (stats.resident_memory_bytes) {
    families.push_back(Single("process_resident_memory_bytes", "Resident memory size in bytes.",
                              MetricType::Gauge, *stats.resident_memory_bytes));
  }
  if (stats.start_time_seconds) {
    families.push_back(Single("process_start_time_seconds",
                              "Start time of the process since unix epoch in seconds.",
                              MetricType::Gauge, *stats.start_time_seconds));
  }
  return families;
}

}  // namespace shoal::metrics
