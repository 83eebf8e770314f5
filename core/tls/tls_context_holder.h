// TlsContextHolder: the current TlsContext of one listener, replaced whole by Reload (SIGHUP) for
// the connections accepted afterwards; connections already open keep the context they started
// with. TlsContextView is a worker's cached copy: it looks at the holder's generation (one atomic
// load) per new connection and takes the holder's lock only after a reload.
//
// Threading: Create, Reload and Current from any thread (Reload is serialized by a mutex and
// keeps the old context when the new files fail). A TlsContextView belongs to one thread.
#ifndef SHOAL_CORE_TLS_TLS_CONTEXT_HOLDER_H_
#define SHOAL_CORE_TLS_TLS_CONTEXT_HOLDER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/tls/tls_context.h"

namespace shoal::core {

class TlsContextHolder {
 public:
  // Fails like TlsContext::Create.
  static absl::StatusOr<std::shared_ptr<TlsContextHolder>> Create(const TlsOptions& options);

  // Re-reads the certificate and key files named by the options; on failure the current context
  // stays and the error (path and reason) is returned.
  absl::Status Reload();
  std::shared_ptr<const TlsContext> Current() const;
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  const TlsOptions& options() const { return options_; }

 private:
  TlsContextHolder(TlsOptions options, std::shared_ptr<const TlsContext> context);

  const TlsOptions options_;
  mutable std::mutex mutex_;
  std::shared_ptr<const TlsContext> current_ ABSL_GUARDED_BY(mutex_);
  std::atomic<uint64_t> generation_{0};
};

class TlsContextView {
 public:
  explicit TlsContextView(std::shared_ptr<TlsContextHolder> holder)
      : holder_(std::move(holder)) {}

  // The holder's current context, refreshed after a reload.
  const std::shared_ptr<const TlsContext>& Get() {
    uint64_t generation = holder_->generation();
    if (context_ == nullptr || generation != generation_) {
      generation_ = generation;
      context_ = holder_->Current();
    }
    return context_;
  }

 private:
  std::shared_ptr<TlsContextHolder> holder_;
  std::shared_ptr<const TlsContext> context_;
  uint64_t generation_ = 0;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_TLS_TLS_CONTEXT_HOLDER_H_
