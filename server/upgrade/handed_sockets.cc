#include "server/upgrade/handed_sockets.h"

#include <fcntl.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace shoal::server::upgrade {

namespace {

absl::string_view AbslView(std::string_view text) { return {text.data(), text.size()}; }

std::optional<std::vector<int64_t>> ParseNumbers(std::string_view text) {
  std::vector<int64_t> numbers;
  if (text.empty()) return numbers;
  for (absl::string_view part : absl::StrSplit(AbslView(text), ',')) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(part, &value) || value < 0) return std::nullopt;
    numbers.push_back(value);
  }
  return numbers;
}

}  // namespace

std::string TakeEnvironmentVariable(const char* name) {
  const char* value = getenv(name);
  std::string text = value != nullptr ? value : "";
  unsetenv(name);
  return text;
}

std::string EncodeSockets(const std::vector<NamedSocket>& sockets) {
  std::string text;
  for (const NamedSocket& socket : sockets) {
    if (!text.empty()) text += ',';
    text += socket.name + "=" + std::to_string(socket.fd);
  }
  return text;
}

absl::StatusOr<std::vector<NamedSocket>> DecodeSockets(std::string_view text) {
  std::vector<NamedSocket> sockets;
  if (text.empty()) return sockets;
  for (absl::string_view entry : absl::StrSplit(AbslView(text), ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    int fd = -1;
    if (parts.size() != 2 || parts[0].empty() || !absl::SimpleAtoi(parts[1], &fd) || fd < 3) {
      return absl::InvalidArgumentError(std::string(kSocketsEnv) + ": bad entry '" +
                                        std::string(entry) + "' (want NAME=FD)");
    }
    sockets.push_back(NamedSocket{std::string(parts[0]), fd});
  }
  return sockets;
}

std::string EncodeLineage(const Lineage& lineage) {
  return std::to_string(lineage.generation) + "," + std::to_string(lineage.upgrades_succeeded) +
         "," + std::to_string(lineage.upgrades_failed);
}

absl::StatusOr<Lineage> DecodeLineage(std::string_view text) {
  std::optional<std::vector<int64_t>> numbers = ParseNumbers(text);
  if (!numbers || numbers->size() != 3 || (*numbers)[0] < 1) {
    return absl::InvalidArgumentError(std::string(kLineageEnv) + ": bad value '" +
                                      std::string(text) + "'");
  }
  return Lineage{(*numbers)[0], (*numbers)[1], (*numbers)[2]};
}

std::string EncodeReady(const std::vector<int>& adopted_fds) {
  return "ready " + absl::StrJoin(adopted_fds, ",") + "\n";
}

std::optional<std::vector<int>> DecodeReady(std::string_view line) {
  constexpr std::string_view kPrefix = "ready ";
  if (line.substr(0, kPrefix.size()) != kPrefix || line.empty() || line.back() != '\n') {
    return std::nullopt;
  }
  line.remove_prefix(kPrefix.size());
  line.remove_suffix(1);
  std::optional<std::vector<int64_t>> numbers = ParseNumbers(line);
  if (!numbers) return std::nullopt;
  return std::vector<int>(numbers->begin(), numbers->end());
}

InheritedSockets::InheritedSockets(Source source, std::vector<NamedSocket> sockets)
    : source_(source) {
  for (NamedSocket& socket : sockets) {
    fcntl(socket.fd, F_SETFD, FD_CLOEXEC);
    sockets_.push_back(Entry{std::move(socket.name), core::ScopedFd(socket.fd), false});
  }
}

std::vector<int> InheritedSockets::Claim(std::string_view name) {
  std::vector<int> fds;
  for (Entry& entry : sockets_) {
    if (entry.name != name) continue;
    entry.claimed = true;
    fds.push_back(entry.fd.get());
  }
  return fds;
}

std::vector<std::string> InheritedSockets::Unclaimed() const {
  std::vector<std::string> names;
  for (const Entry& entry : sockets_) {
    if (!entry.claimed && std::find(names.begin(), names.end(), entry.name) == names.end()) {
      names.push_back(entry.name);
    }
  }
  return names;
}

}  // namespace shoal::server::upgrade
