#include "core/buffer.h"

#include <algorithm>
#include <cstring>

namespace shoal::core {

void Buffer::Consume(size_t n) {
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
}

void Buffer::Append(std::string_view bytes) {
  if (bytes.empty()) return;
  EnsureWritable(bytes.size());
  std::memcpy(writable_data(), bytes.data(), bytes.size());
  Commit(bytes.size());
}

void Buffer::EnsureWritable(size_t n, size_t max_capacity) {
  if (writable_bytes() >= n) return;
  size_t used = readable_bytes();
  if (begin_ > 0 && capacity_ - used >= n) {
    std::memmove(storage_.get(), storage_.get() + begin_, used);
    begin_ = 0;
    end_ = used;
    return;
  }
  size_t new_capacity =
      std::max(used + n, std::min(max_capacity, std::max<size_t>(capacity_ * 2, 1024)));
  std::unique_ptr<char[]> bigger(new char[new_capacity]);
  if (used > 0) std::memcpy(bigger.get(), storage_.get() + begin_, used);
  storage_ = std::move(bigger);
  capacity_ = new_capacity;
  begin_ = 0;
  end_ = used;
}

void Buffer::ShrinkIfEmpty(size_t keep_capacity) {
  if (empty() && capacity_ > keep_capacity) {
    storage_.reset();
    capacity_ = 0;
    begin_ = end_ = 0;
  }
}

}  // namespace shoal::core
