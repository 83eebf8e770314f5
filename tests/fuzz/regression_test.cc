// Replays the fuzz inputs kept in the tree through the fuzz targets' own entry points, built with
// g++ under Bazel (so also under --config=asan and --config=tsan): every seed of
// tests/fuzz/corpus/<target>/ and every crash found so far, tests/fuzz/regressions/<target>/.
// A failing invariant aborts; the file being replayed is printed first.
//
// Below the replay, each crash the fuzzers found is also written out as a plain unit test.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/config.h"
#include "tests/fuzz/fuzz_support.h"

namespace shoal::fuzz {
namespace {

namespace fs = std::filesystem;

// The file being replayed, for the SIGABRT handler (a failed SHOAL_FUZZ_CHECK aborts).
char g_replaying[4096];

void OnAbort(int signal_number) {
  const char prefix[] = "\n*** fuzz regression failed while replaying: ";
  [[maybe_unused]] ssize_t ignored = write(STDERR_FILENO, prefix, sizeof(prefix) - 1);
  ignored = write(STDERR_FILENO, g_replaying, strlen(g_replaying));
  ignored = write(STDERR_FILENO, "\n", 1);
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

std::vector<fs::path> FilesUnder(const fs::path& directory) {
  std::vector<fs::path> files;
  std::error_code error;
  if (!fs::is_directory(directory, error)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(directory)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

using FuzzFunction = int (*)(const uint8_t*, size_t);

// Replays corpus/<target> (which must not be empty: it proves the data reached the test) and
// regressions/<target>; returns how many files ran.
size_t Replay(const std::string& target, FuzzFunction function) {
  ::signal(SIGABRT, OnAbort);
  const fs::path root = "tests/fuzz";
  const std::vector<fs::path> seeds = FilesUnder(root / "corpus" / target);
  EXPECT_FALSE(seeds.empty()) << "no seed corpus at " << (root / "corpus" / target)
                              << " (data dependency missing?)";
  std::vector<fs::path> files = seeds;
  for (const fs::path& file : FilesUnder(root / "regressions" / target)) files.push_back(file);
  for (const fs::path& file : files) {
    const std::string name = file.string();
    std::snprintf(g_replaying, sizeof(g_replaying), "%s", name.c_str());
    const std::string data = ReadFile(file);
    EXPECT_EQ(function(reinterpret_cast<const uint8_t*>(data.data()), data.size()), 0) << name;
  }
  g_replaying[0] = '\0';
  ::signal(SIGABRT, SIG_DFL);
  return files.size();
}

TEST(FuzzReplayTest, EchoDecoder) { EXPECT_GT(Replay("echo_decoder", EchoDecoderFuzzOneInput), 0u); }

TEST(FuzzReplayTest, RequestParser) {
  EXPECT_GT(Replay("request_parser", RequestParserFuzzOneInput), 0u);
}

TEST(FuzzReplayTest, Config) { EXPECT_GT(Replay("config", ConfigFuzzOneInput), 0u); }

TEST(FuzzReplayTest, Resp) { EXPECT_GT(Replay("resp", RespFuzzOneInput), 0u); }

TEST(FuzzReplayTest, ProxyHeader) {
  EXPECT_GT(Replay("proxy_header", ProxyHeaderFuzzOneInput), 0u);
}

// ------------------------------------------------------------------------------------------------
// Crashes found by the config fuzzer, as unit tests (inputs also in tests/fuzz/regressions/config).

std::string ErrorOf(std::string_view yaml) {
  absl::StatusOr<server::Config> config = server::ParseConfig(yaml, "t.yaml");
  EXPECT_FALSE(config.ok()) << yaml;
  return config.ok() ? std::string() : std::string(config.status().message());
}

// yaml-cpp 0.7's YAML::LoadAll never returns on a document that starts with a stray ',' (it
// yields empty documents forever, allocating each): ParseConfig hung and ran out of memory, so
// --check_config or a SIGHUP reload of such a file hung the process. Found as ",x".
TEST(ConfigFuzzRegressionTest, StrayCommaIsASyntaxErrorNotAHang) {
  EXPECT_EQ(ErrorOf(",x"), "t.yaml:1:1: YAML syntax error: unexpected ','");
  EXPECT_EQ(ErrorOf(","), "t.yaml:1:1: YAML syntax error: unexpected ','");
  EXPECT_EQ(ErrorOf("workers: 1\n---\n, 2\n"), "t.yaml:3:1: YAML syntax error: unexpected ','");
}

TEST(ConfigFuzzRegressionTest, DocumentsAreStillCounted) {
  EXPECT_EQ(ErrorOf("workers: 1\n---\nworkers: 2\n"),
            "t.yaml:3:1: more than one YAML document (a config file holds one)");
  EXPECT_TRUE(server::ParseConfig("", "t.yaml").ok());
  EXPECT_TRUE(server::ParseConfig("---\nworkers: 3\n...\n", "t.yaml").ok());
}

// Every error is one line: a key's bytes (in the key path) and yaml-cpp's syntax messages (which
// quote the offending character) were copied raw, so a quoted key holding a line feed split one
// error over two lines, and control characters reached the terminal and logs.
TEST(ConfigFuzzRegressionTest, ErrorsStayOnOneLine) {
  EXPECT_EQ(ErrorOf("\"a\\nb\": 1\n"), "t.yaml:1:1: a\\nb: unknown key");
  EXPECT_EQ(ErrorOf("limits:\n  \"x\\ty\": 1\n"), "t.yaml:2:3: limits.x?y: unknown key");
  EXPECT_EQ(ErrorOf("a: \"\\\x01\"\n"), "t.yaml:1:7: YAML syntax error: unknown escape character: ?");
}

}  // namespace
}  // namespace shoal::fuzz
