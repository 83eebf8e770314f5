// config_doc: prints the configuration reference generated from the schema table, or with
// --write rewrites the block of it in README.md (run through `bazel run`, which says where the
// workspace is):
//   bazel run //tools/config_doc             # print
//   bazel run //tools/config_doc -- --write  # update README.md
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>

#include "tools/config_doc/readme_block.h"

int main(int argc, char** argv) {
  const bool write = argc == 2 && std::string_view(argv[1]) == "--write";
  if (argc > 2 || (argc == 2 && !write)) {
    std::cerr << "usage: config_doc [--write]\n";
    return 2;
  }
  if (!write) {
    std::cout << shoal::tools::ReferenceBlock();
    return 0;
  }
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (workspace == nullptr) {
    std::cerr << "config_doc: --write needs `bazel run` (BUILD_WORKSPACE_DIRECTORY is not set)\n";
    return 1;
  }
  const std::string path = std::string(workspace) + "/README.md";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    std::cerr << "config_doc: cannot read " << path << "\n";
    return 1;
  }
  auto updated = shoal::tools::ReplaceReferenceBlock(text.str(), shoal::tools::ReferenceBlock());
  if (!updated.ok()) {
    std::cerr << "config_doc: " << updated.status().message() << "\n";
    return 1;
  }
  if (*updated == text.str()) {
    std::cout << path << ": config reference up to date\n";
    return 0;
  }
  std::ofstream out(path, std::ios::trunc);
  out << *updated;
  if (!out.flush()) {
    std::cerr << "config_doc: cannot write " << path << "\n";
    return 1;
  }
  std::cout << path << ": config reference updated\n";
  return 0;
}
