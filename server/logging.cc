#include "server/logging.h"

#include <pthread.h>
#include <signal.h>

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"

namespace shoal::server {

namespace {

// %* in a pattern: the message, escaped for a JSON string.
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& message, const std::tm&,
              spdlog::memory_buf_t& out) override {
    static constexpr char kHex[] = "0123456789abcdef";
    for (char c : message.payload) {
      switch (c) {
        case '"': out.append(std::string_view("\\\"")); break;
        case '\\': out.append(std::string_view("\\\\")); break;
        case '\n': out.append(std::string_view("\\n")); break;
        case '\r': out.append(std::string_view("\\r")); break;
        case '\t': out.append(std::string_view("\\t")); break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char escaped[6] = {'\\', 'u', '0', '0', kHex[(c >> 4) & 0xf], kHex[c & 0xf]};
            out.append(escaped, escaped + 6);
          } else {
            out.push_back(c);
          }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }
};

// Never destroyed: at exit a writer stuck on a full stderr pipe must not hold the process (its
// thread ends with the process; Application flushes with a bounded wait before returning).
std::shared_ptr<spdlog::details::thread_pool>& WriterPool() {
  static auto* pool = new std::shared_ptr<spdlog::details::thread_pool>();
  return *pool;
}

}  // namespace

absl::Status SetLogLevel(std::string_view level) {
  spdlog::level::level_enum value = spdlog::level::from_str(std::string(level));
  if (value == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError("unknown log level '" + std::string(level) +
                                      "' (expected trace, debug, info, warn or error)");
  }
  spdlog::set_level(value);
  return absl::OkStatus();
}

uint64_t LogLinesDropped() {
  const auto& pool = WriterPool();
  return pool ? static_cast<uint64_t>(pool->overrun_counter()) : 0;
}

void FlushLogsFor(absl::Duration at_most) {
  spdlog::default_logger()->flush();
  const auto& pool = WriterPool();
  if (!pool) return;
  absl::Time give_up = absl::Now() + at_most;
  while (pool->queue_size() > 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
}

absl::Status ConfigureLogging(std::string_view level, LogFormat format) {
  if (!WriterPool()) {
    // The writer thread takes no signals: they are for the main thread's signalfd.
    WriterPool() = std::make_shared<spdlog::details::thread_pool>(kLogQueueLines, 1, [] {
      sigset_t all;
      sigfillset(&all);
      pthread_sigmask(SIG_BLOCK, &all, nullptr);
    });
  }
  auto logger = std::make_shared<spdlog::async_logger>(
      "shoal", std::make_shared<spdlog::sinks::stderr_sink_mt>(), WriterPool(),
      spdlog::async_overflow_policy::overrun_oldest);
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (format == LogFormat::kJson) {
    formatter->add_flag<JsonEscapedMessage>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","thread":%t,"msg":"%*"})");
  } else {
    formatter->set_pattern("%Y-%m-%d %H:%M:%S.%e [%l] %v");
  }
  logger->set_formatter(std::move(formatter));
  logger->flush_on(spdlog::level::info);
  // Never destroyed either: the writer thread may still be formatting with it while the process
  // exits.
  static auto* keep_alive = new std::vector<std::shared_ptr<spdlog::logger>>();
  keep_alive->push_back(logger);
  spdlog::set_default_logger(logger);
  return SetLogLevel(level);
}

}  // namespace shoal::server
