// Buffer: a connection's unconsumed input bytes, contiguous. It starts with no storage (an idle
// connection costs nothing here), grows geometrically when more bytes must be kept than fit (never
// past a caller's cap), and compacts before growing. Owned and used by one thread. Append is
// amortised O(n).
#ifndef SHOAL_CORE_BUFFER_H_
#define SHOAL_CORE_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace shoal::core {

class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  bool empty() const { return begin_ == end_; }
  size_t readable_bytes() const { return end_ - begin_; }
  std::string_view readable() const { return {storage_.get() + begin_, end_ - begin_}; }
  size_t capacity() const { return capacity_; }

  // Drops the first n readable bytes (n <= readable_bytes()).
  void Consume(size_t n);
  void Append(std::string_view bytes);

  // Makes at least n bytes writable after the readable ones, then the caller writes into
  // writable_data() and commits what it wrote. Growth doubles, but not past
  // max(max_capacity, readable_bytes() + n).
  void EnsureWritable(size_t n, size_t max_capacity = SIZE_MAX);
  char* writable_data() { return storage_.get() + end_; }
  size_t writable_bytes() const { return capacity_ - end_; }
  void Commit(size_t n) { end_ += n; }

  // Frees the storage if the buffer is empty and holds more than `keep_capacity` bytes.
  void ShrinkIfEmpty(size_t keep_capacity);

 private:
  std::unique_ptr<char[]> storage_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_BUFFER_H_
