// The configuration reference in README.md is the one the schema table generates, and it is a
// valid config file holding every default.
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/config/config.h"
#include "server/config/schema.h"
#include "tools/config_doc/readme_block.h"

namespace shoal::server {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return text.str();
}

TEST(ConfigReferenceTest, ReadmeBlockMatchesTheTable) {
  absl::StatusOr<std::string> block = tools::ExtractReferenceBlock(ReadFile("README.md"));
  ASSERT_TRUE(block.ok()) << block.status();
  EXPECT_EQ(*block, tools::ReferenceBlock()) << "README.md's config reference is out of date: run\n"
                                                "  bazel run //tools/config_doc -- --write";
}

TEST(ConfigReferenceTest, ParsesToTheDefault) {
  absl::StatusOr<Config> config = ParseConfig(ConfigReference(), "reference.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(*config, Config::Default());
}

TEST(ConfigReferenceTest, EveryKeyHasItsDocAndRestartOnlyKeysAreMarked) {
  const std::string reference = ConfigReference();
  // The line that carries the key's doc, which must be the key's own line.
  auto check = [&](const auto& key) {
    size_t doc = reference.find(absl::StrCat("] ", std::string(key.doc)));
    if (doc == std::string::npos) doc = reference.find(absl::StrCat("# ", std::string(key.doc)));
    ASSERT_NE(doc, std::string::npos) << key.path;
    size_t begin = reference.rfind('\n', doc) + 1;
    std::string line = reference.substr(begin, reference.find('\n', doc) - begin);
    std::string_view text = line;
    text.remove_prefix(text.find_first_not_of(" -"));
    EXPECT_TRUE(text.starts_with(absl::StrCat(std::string(schema::LastSegment(key.path)), ": ")))
        << key.path << " is documented on: " << line;
    EXPECT_EQ(line.find("# [restart] ") != std::string::npos,
              key.reload == schema::Reload::kRestart)
        << line;
  };
  for (const auto& key : schema::ConfigKeys()) check(key);
  for (const auto& key : schema::ListenerKeys()) check(key);
}

TEST(ConfigReferenceTest, ReplacingTheBlockKeepsTheRest) {
  const std::string readme =
      absl::StrCat("intro\n", std::string(tools::kReferenceBegin), "\nstale\n",
                   std::string(tools::kReferenceEnd), "\nend\n");
  absl::StatusOr<std::string> updated = tools::ReplaceReferenceBlock(readme, "new\n");
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(*updated, absl::StrCat("intro\n", std::string(tools::kReferenceBegin), "\nnew\n",
                                   std::string(tools::kReferenceEnd), "\nend\n"));
  EXPECT_FALSE(tools::ExtractReferenceBlock("no markers").ok());
  EXPECT_FALSE(tools::ExtractReferenceBlock(absl::StrCat(std::string(tools::kReferenceEnd), "\n",
                                                         std::string(tools::kReferenceBegin)))
                   .ok());
}

}  // namespace
}  // namespace shoal::server
