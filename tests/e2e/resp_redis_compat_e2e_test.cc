// shoal against Debian's redis-server, byte for byte: every request of the corpus
// (resp_redis_compat_corpus.txt, which states the format and where shoal differs on purpose) is
// sent on a fresh connection to each server over real sockets, and the replies compared exactly
// or by their RESP shape.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/client_socket.h"
#include "tests/support/shoal_process.h"
#include "tests/support/subprocess.h"

namespace shoal::testing {
namespace {

constexpr char kCorpus[] = "tests/e2e/resp_redis_compat_corpus.txt";
constexpr char kQuit[] = "*1\r\n$4\r\nQUIT\r\n";

struct Case {
  std::string mode;
  std::string name;
  std::string request;
  int line = 0;
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out.push_back(text[i]);
      continue;
    }
    const char next = text[++i];
    if (next == 'r') {
      out.push_back('\r');
    } else if (next == 'n') {
      out.push_back('\n');
    } else if (next == 't') {
      out.push_back('\t');
    } else if (next == 'x' && i + 2 < text.size() && HexDigit(text[i + 1]) >= 0 &&
               HexDigit(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(text[i + 1]) * 16 + HexDigit(text[i + 2])));
      i += 2;
    } else {
      out.push_back(next);
    }
  }
  return out;
}

std::vector<Case> ReadCorpus() {
  std::ifstream file(kCorpus);
  std::vector<Case> cases;
  std::string line;
  int number = 0;
  while (std::getline(file, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Case c;
    fields >> c.mode >> c.name;
    std::string rest;
    std::getline(fields, rest);
    c.request = Unescape(rest.substr(rest.empty() ? 0 : 1));
    c.line = number;
    cases.push_back(std::move(c));
  }
  return cases;
}

// The RESP values of `replies` with bulk, verbatim and integer contents left out: types, sizes
// of aggregates, simple strings and errors in full.
std::string Shape(std::string_view replies) {
  std::string shape;
  size_t position = 0;
  std::vector<int64_t> open;  // values left in each open aggregate
  while (position < replies.size()) {
    const size_t end = replies.find("\r\n", position);
    if (end == std::string_view::npos) return shape + " <truncated>";
    const char type = replies[position];
    const std::string_view line = replies.substr(position + 1, end - position - 1);
    position = end + 2;
    shape.push_back(type);
    if (type == '+' || type == '-') {
      shape.append(line);
    } else if (type == '$' || type == '=') {
      const int64_t size = std::stoll(std::string(line));
      if (size < 0) shape.append("null");
      if (size > 0) position += static_cast<size_t>(size) + 2;
      if (size == 0) position += 2;
    } else if (type == '*' || type == '%' || type == '~') {
      int64_t count = std::stoll(std::string(line));
      shape.append(line);
      if (type == '%') count *= 2;
      if (count > 0) {
        shape.append("[");
        open.push_back(count);
        continue;
      }
    }
    shape.push_back(' ');
    while (!open.empty() && --open.back() == 0) {
      open.pop_back();
      shape.append("] ");
    }
  }
  return shape;
}

// Sends `request` on a new connection to `port`; returns everything read until the server
// closes; *closed says whether it did within the deadline.
std::string Exchange(uint16_t port, const std::string& request, bool* closed) {
  auto fd = Connect(port, seconds(5));
  if (!fd.ok()) return "<connect failed: " + std::string(fd.status().message()) + ">";
  if (!SendAll(fd->get(), request, seconds(5)).ok()) return "<send failed>";
  std::string replies = ReadUpTo(fd->get(), 1 << 20, seconds(5));
  const EndKind end = WaitForEnd(fd->get(), milliseconds(200));
  *closed = end == EndKind::kEof || end == EndKind::kReset;
  return replies;
}

std::string Printable(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += "\\x" + std::string(1, "0123456789abcdef"[(c >> 4) & 15]) +
             std::string(1, "0123456789abcdef"[c & 15]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

uint16_t StartShoal(std::unique_ptr<Subprocess>& shoal) {
  shoal = std::make_unique<Subprocess>(std::vector<std::string>{
      ShoalBinaryPath(), "--config=" + WriteTempFile("resp_compat.yaml", ServerConfig("resp", 1))});
  const int port = WaitForPorts(*shoal).listener;
  return port > 0 ? static_cast<uint16_t>(port) : 0;
}

// redis-server on a port that was free a moment ago; 0 if it did not answer PING in time.
uint16_t StartRedis(const std::string& binary, std::unique_ptr<Subprocess>& redis) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = PickFreePort();
    if (port <= 0) continue;
    redis = std::make_unique<Subprocess>(std::vector<std::string>{
        binary, "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--databases", "1", "--daemonize", "no", "--logfile", ""});
    const bool ready = WaitFor(
        [&] {
          auto fd = Connect(static_cast<uint16_t>(port), milliseconds(200));
          if (!fd.ok() || !SendAll(fd->get(), "PING\r\n", milliseconds(200)).ok()) return false;
          return ReadUpTo(fd->get(), 7, milliseconds(500)) == "+PONG\r\n";
        },
        seconds(10));
    if (ready) return static_cast<uint16_t>(port);
  }
  return 0;
}

TEST(RespRedisCompatTest, RepliesMatchRedisServer) {
  const std::optional<std::string> redis_binary = FindOnPath("redis-server");
  ASSERT_TRUE(redis_binary.has_value())
      << "redis-server is not installed (bash tools/install-deps.sh installs it)";
  std::unique_ptr<Subprocess> redis;
  const uint16_t redis_port = StartRedis(*redis_binary, redis);
  ASSERT_NE(redis_port, 0) << (redis ? redis->out() + redis->err() : "");
  std::unique_ptr<Subprocess> shoal;
  const uint16_t shoal_port = StartShoal(shoal);
  ASSERT_NE(shoal_port, 0) << shoal->err();

  const std::vector<Case> cases = ReadCorpus();
  ASSERT_GE(cases.size(), 50u) << "the corpus was not found or is cut short: " << kCorpus;
  int matched = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(kCorpus) + ":" + std::to_string(c.line) + ": " + c.name);
    ASSERT_TRUE(c.mode == "exact" || c.mode == "exact-closes" || c.mode == "shape") << c.mode;
    const std::string request = c.mode == "exact-closes" ? c.request : c.request + kQuit;
    bool redis_closed = false;
    bool shoal_closed = false;
    const std::string expected = Exchange(redis_port, request, &redis_closed);
    const std::string actual = Exchange(shoal_port, request, &shoal_closed);
    EXPECT_TRUE(redis_closed) << "redis-server kept the connection: fix the corpus";
    EXPECT_EQ(shoal_closed, redis_closed);
    if (c.mode == "shape") {
      EXPECT_EQ(Shape(actual), Shape(expected))
          << "shoal: " << Printable(actual) << "\nredis: " << Printable(expected);
      matched += Shape(actual) == Shape(expected);
    } else {
      EXPECT_EQ(Printable(actual), Printable(expected));
      matched += actual == expected;
    }
  }
  std::cout << "resp compat corpus: " << matched << " of " << cases.size()
            << " cases match redis-server\n";
  shoal->Signal(SIGTERM);
  EXPECT_EQ(shoal->Wait(seconds(15)), 0) << shoal->err();
  redis->Signal(SIGTERM);
  redis->Wait(seconds(15));
}

}  // namespace
}  // namespace shoal::testing
