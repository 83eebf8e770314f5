// ProcessCollector: the parsers on real-world and tricky input, exact values over a fake procfs
// tree, and the real /proc/self compared with what the test itself measures.
#include "metrics/process_collector.h"
#include "prometheus/text_serializer.h"
#include "tests/support/exposition.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace shoal::metrics {
namespace {

// A /proc/<pid>/stat line (Linux 6.x layout, 52 fields) with utime 150, stime 50, starttime 12345,
// vsize 104857600 and rss 2560 pages; the command name holds spaces and parentheses.
constexpr char kStatLine[] =
    "4242 (shoal (w) 1) S 1 4242 4242 0 -1 4194560 1500 0 0 0 150 50 0 0 20 0 5 0 12345 "
    "104857600 2560 18446744073709551615 94000000000000 94000000100000 140700000000000 0 0 0 0 "
    "4096 0 0 0 0 17 1 0 0 0 0 0 94000000200000 94000000300000 94000000400000 140700000001000 "
    "140700000002000 140700000002000 140700000003000 0\n";

constexpr char kLimits[] =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max open files            4096                 524288               files     \n"
    "Max locked memory         8388608              8388608              bytes     \n";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::string MakeTempDir() {
  const char* tmpdir = std::getenv("TEST_TMPDIR");
  std::string pattern = std::string(tmpdir != nullptr ? tmpdir : "/tmp") + "/procXXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  EXPECT_NE(mkdtemp(buffer.data()), nullptr);
  return buffer.data();
}

TEST(ParseProcStatTest, ReadsFieldsAfterTheLastParenthesis) {
  auto stat = ParseProcStat(kStatLine);
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->utime_ticks, 150u);
  EXPECT_EQ(stat->stime_ticks, 50u);
  EXPECT_EQ(stat->starttime_ticks, 12345u);
  EXPECT_EQ(stat->vsize_bytes, 104857600u);
  EXPECT_EQ(stat->rss_pages, 2560);
}

TEST(ParseProcStatTest, RejectsMalformedLines) {
  EXPECT_FALSE(ParseProcStat("").has_value());
  EXPECT_FALSE(ParseProcStat("4242 shoal S 1 2 3").has_value());  // no parentheses
  EXPECT_FALSE(ParseProcStat("4242 (shoal) S 1 4242 4242 0 -1").has_value());  // too short
  std::string bad = kStatLine;
  bad.replace(bad.find(" 150 "), 5, " x50 ");
  EXPECT_FALSE(ParseProcStat(bad).has_value());
}

TEST(ParseBootTimeTest, FindsTheBtimeLine) {
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\nintr 5\nctxt 9\nbtime 1700000000\nprocesses 77\n"),
            1700000000u);
  EXPECT_FALSE(ParseBootTime("cpu  1 2 3\n").has_value());
}

TEST(ParseMaxOpenFilesTest, ReadsTheSoftLimit) {
  EXPECT_EQ(ParseMaxOpenFiles(kLimits), 4096u);
  EXPECT_FALSE(ParseMaxOpenFiles("Max open files            unlimited            unlimited   files\n")
                   .has_value());
  EXPECT_FALSE(ParseMaxOpenFiles("Max cpu time  unlimited unlimited seconds\n").has_value());
}

TEST(ProcessCollectorTest, ExactValuesFromAFakeProcTree) {
  std::string root = MakeTempDir();
  ASSERT_EQ(mkdir((root + "/self").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((root + "/self/fd").c_str(), 0755), 0);
  WriteFile(root + "/self/stat", kStatLine);
  WriteFile(root + "/self/limits", kLimits);
  WriteFile(root + "/stat", "cpu  1 2 3\nbtime 1700000000\n");
  for (int i = 0; i < 7; ++i) WriteFile(root + "/self/fd/" + std::to_string(i), "");

  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  ProcessCollector collector(root);
  std::string text = prometheus::TextSerializer().Serialize(collector.Collect());
  testing::Exposition e = testing::ParseExposition(text);
  EXPECT_TRUE(e.errors.empty());
  EXPECT_EQ(e.Value("process_cpu_seconds_total"), 200.0 / ticks);
  EXPECT_EQ(e.types["process_cpu_seconds_total"], "counter");
  EXPECT_EQ(e.Value("process_resident_memory_bytes"), 2560.0 * page);
  EXPECT_EQ(e.Value("process_virtual_memory_bytes"), 104857600.0);
  EXPECT_EQ(e.Value("process_open_fds"), 7.0);
  EXPECT_EQ(e.Value("process_max_fds"), 4096.0);
  EXPECT_DOUBLE_EQ(*e.Value("process_start_time_seconds"), 1700000000.0 + 12345.0 / ticks);
  for (const char* gauge : {"process_resident_memory_bytes", "process_virtual_memory_bytes",
                            "process_open_fds", "process_max_fds", "process_start_time_seconds"}) {
    EXPECT_EQ(e.types[gauge], "gauge") << gauge;
    EXPECT_FALSE(e.helps[gauge].empty()) << gauge;
  }
}

TEST(ProcessCollectorTest, UnreadableFilesLeaveTheirMetricsOut) {
  std::string root = MakeTempDir();  // empty: nothing to read
  ProcessCollector collector(root);
  EXPECT_TRUE(collector.Collect().empty());
  ASSERT_EQ(mkdir((root + "/self").c_str(), 0755), 0);
  WriteFile(root + "/self/stat", kStatLine);  // no /stat: no start time
  std::vector<prometheus::MetricFamily> families = collector.Collect();
  std::vector<std::string> names;
  for (const auto& family : families) names.push_back(family.name);
  EXPECT_EQ(names, (std::vector<std::string>{"process_cpu_seconds_total",
                                             "process_virtual_memory_bytes",
                                             "process_resident_memory_bytes"}));
}

TEST(ProcessCollectorTest, RealProcSelfMatchesWhatTheProcessMeasures) {
  ProcessCollector collector;
  ProcessStats before = collector.Read();
  ASSERT_TRUE(before.cpu_seconds && before.resident_memory_bytes && before.virtual_memory_bytes &&
              before.open_fds && before.max_fds && before.start_time_seconds);

  // Max fds: the soft RLIMIT_NOFILE.
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  EXPECT_EQ(*before.max_fds, static_cast<double>(limit.rlim_cur));

  // Open fds: opening 10 more descriptors adds exactly 10.
  std::vector<int> fds;
  for (int i = 0; i < 10; ++i) fds.push_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
  ProcessStats more = collector.Read();
  EXPECT_EQ(*more.open_fds, *before.open_fds + 10);
  for (int fd : fds) close(fd);
  EXPECT_EQ(*collector.Read().open_fds, *before.open_fds);
  // And it is the number of entries of /proc/self/fd (which, listed, include the listing's own).
  double entries = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++entries;
    }
    closedir(dir);
  }
  EXPECT_NEAR(*collector.Read().open_fds, entries, 1.0);

  // Start time: this process started after boot, before now, and the value does not change.
  double now = static_cast<double>(time(nullptr));
  EXPECT_LE(*before.start_time_seconds, now + 1);
  EXPECT_GT(*before.start_time_seconds, now - 3600);
  EXPECT_EQ(*more.start_time_seconds, *before.start_time_seconds);

  // CPU: burn ~300 ms of CPU (measured by the process CPU clock) and see at least most of it.
  timespec start{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
  volatile uint64_t sink = 0;
  for (;;) {
    for (int i = 0; i < 1000000; ++i) sink = sink + static_cast<uint64_t>(i);
    timespec now_cpu{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now_cpu);
    double spent = static_cast<double>(now_cpu.tv_sec - start.tv_sec) +
                   static_cast<double>(now_cpu.tv_nsec - start.tv_nsec) * 1e-9;
    if (spent >= 0.3) break;
  }
  ProcessStats after_cpu = collector.Read();
  EXPECT_GE(*after_cpu.cpu_seconds - *before.cpu_seconds, 0.2);  // tick granularity: 10 ms

  // Resident memory: touching 64 MiB adds at least 60 MiB; virtual memory grows as much.
  constexpr size_t kBytes = 64 << 20;
  char* block = static_cast<char*>(malloc(kBytes));
  ASSERT_NE(block, nullptr);
  memset(block, 1, kBytes);
  ProcessStats after_memory = collector.Read();
  EXPECT_GE(*after_memory.resident_memory_bytes - *before.resident_memory_bytes, 60.0 * (1 << 20));
  EXPECT_GE(*after_memory.virtual_memory_bytes - *before.virtual_memory_bytes, 60.0 * (1 << 20));
  // And it agrees with /proc/self/statm (pages: size resident ...), read right after.
  std::istringstream statm(ReadFile("/proc/self/statm"));
  double size_pages = 0, resident_pages = 0;
  statm >> size_pages >> resident_pages;
  double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  EXPECT_NEAR(*after_memory.resident_memory_bytes, resident_pages * page, 4.0 * (1 << 20));
  EXPECT_NEAR(*after_memory.virtual_memory_bytes, size_pages * page, 4.0 * (1 << 20));
  free(block);
  EXPECT_GT(sink, 0u);
}

}  // namespace
}  // namespace shoal::metrics
