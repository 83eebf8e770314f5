#include "core/tls/tls_context_holder.h"

#include <utility>

namespace shoal::core {

absl::StatusOr<std::shared_ptr<TlsContextHolder>> TlsContextHolder::Create(
    const TlsOptions& options) {
  auto context = TlsContext::Create(options);
  if (!context.ok()) return context.status();
  return std::shared_ptr<TlsContextHolder>(new TlsContextHolder(options, *std::move(context)));
}

TlsContextHolder::TlsContextHolder(TlsOptions options, std::shared_ptr<const TlsContext> context)
    : options_(std::move(options)), current_(std::move(context)) {}

absl::Status TlsContextHolder::Reload() {
  auto context = TlsContext::Create(options_);
  if (!context.ok()) return context.status();
  std::lock_guard<std::mutex> lock(mutex_);
  current_ = *std::move(context);
  generation_.fetch_add(1, std::memory_order_release);
  return absl::OkStatus();
}

std::shared_ptr<const TlsContext> TlsContextHolder::Current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}

}  // namespace shoal::core
