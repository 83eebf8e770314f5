// OutputQueue: a connection's pending output as a chain of fixed-size chunks taken from, and
// returned to, its worker's ChunkPool, written with writev/sendmsg of up to IOV_MAX slices per call.
// Partial writes resume exactly where they stopped. The pool also keeps the worker-wide total of
// queued bytes, which the worker compares with its budget.
//
// Threading: a ChunkPool and all queues using it belong to one worker thread. Costs: Append is
// O(bytes) with no allocation while the pool has free chunks; WriteTo is O(slices written).
#ifndef SHOAL_CORE_OUTPUT_QUEUE_H_
#define SHOAL_CORE_OUTPUT_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shoal::core {

struct Chunk;

class ChunkPool {
 public:
  // A chunk including its header is exactly this many bytes.
  static constexpr size_t kChunkBytes = 16 * 1024;

  // Keeps at most `max_free_chunks` released chunks for reuse; frees the rest.
  explicit ChunkPool(size_t max_free_chunks = 1024);
  ~ChunkPool();
  ChunkPool(const ChunkPool&) = delete;
  ChunkPool& operator=(const ChunkPool&) = delete;

  Chunk* Acquire();
  void Release(Chunk* chunk);

  size_t free_chunks() const { return free_count_; }
  size_t chunks_in_use() const { return in_use_; }
  // Sum of OutputQueue::size() over all queues using this pool.
  uint64_t queued_bytes() const { return queued_bytes_; }
  void AddQueued(int64_t delta) { queued_bytes_ += delta; }

 private:
  Chunk* free_list_ = nullptr;
  size_t free_count_ = 0;
  size_t max_free_ = 0;
  size_t in_use_ = 0;
  uint64_t queued_bytes_ = 0;
};

class OutputQueue {
 public:
  explicit OutputQueue(ChunkPool* pool) : pool_(pool) {}
  ~OutputQueue() { Clear(); }
  OutputQueue(const OutputQueue&) = delete;
  OutputQueue& operator=(const OutputQueue&) = delete;

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  void Append(std::string_view bytes);
  // Appends up to `max` bytes read straight from fd into the queue's tail chunks (no intermediate
  // copy): returns bytes read, 0 on EOF, -1 with errno set (EAGAIN included).
  long AppendFromFd(int fd, size_t max);
  // One readv: up to `max` bytes (at most kMaxSpillQueueBytes) into the queue's tail chunks, and
  // what follows them on the socket into `spill` (up to `spill_size`). Returns the total read
  // (0 on EOF, -1 with errno set); *spilled tells how much of it went to `spill`, which is only
  // non-zero once exactly `max` bytes were queued.
  static constexpr size_t kMaxSpillQueueBytes = 64 * 1024;
  long AppendFromFdWithSpill(int fd, size_t max, char* spill, size_t spill_size, size_t* spilled);

  struct WriteResult {
    size_t written = 0;
    int error = 0;           // errno of a failed write other than EAGAIN, else 0
    bool would_block = false;  // the socket stopped taking bytes before the queue emptied
  };
  // Writes until the queue is empty, the socket would block, or an error.
  WriteResult WriteTo(int fd);

  // The first contiguous run of queued bytes (empty when the queue is), for writers that take
  // one buffer at a time (TLS), and dropping the first `n` (<= size()) once they were written.
  std::string_view front() const;
  void Consume(size_t n);

  // Drops everything queued and returns the chunks to the pool.
  void Clear();

 private:
  void PopFrontChunk();

  ChunkPool* pool_;
  Chunk* head_ = nullptr;
  Chunk* tail_ = nullptr;
  size_t size_ = 0;
};

}  // namespace shoal::core

#endif  // SHOAL_CORE_OUTPUT_QUEUE_H_
