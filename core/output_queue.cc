#include "core/output_queue.h"

#include <limits.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

namespace shoal::core {

struct Chunk {
  Chunk* next;
  uint32_t begin;
  uint32_t end;
  char data[ChunkPool::kChunkBytes - 16];

  static constexpr uint32_t kCapacity = ChunkPool::kChunkBytes - 16;
  size_t readable() const { return end - begin; }
  size_t writable() const { return kCapacity - end; }
};
static_assert(sizeof(Chunk) == ChunkPool::kChunkBytes);

ChunkPool::ChunkPool(size_t max_free_chunks) : max_free_(max_free_chunks) {}

ChunkPool::~ChunkPool() {
  while (free_list_ != nullptr) {
    Chunk* next = free_list_->next;
    delete free_list_;
    free_list_ = next;
  }
}

Chunk* ChunkPool::Acquire() {
  Chunk* chunk = free_list_;
  if (chunk != nullptr) {
    free_list_ = chunk->next;
    --free_count_;
  } else {
    chunk = new Chunk;
  }
  chunk->next = nullptr;
  chunk->begin = chunk->end = 0;
  ++in_use_;
  return chunk;
}

void ChunkPool::Release(Chunk* chunk) {
  --in_use_;
  if (free_count_ >= max_free_) {
    delete chunk;
    return;
  }
  chunk->next = free_list_;
  free_list_ = chunk;
  ++free_count_;
}

void OutputQueue::Append(std::string_view bytes) {
  size_ += bytes.size();
  pool_->AddQueued(static_cast<int64_t>(bytes.size()));
  while (!bytes.empty()) {
    if (tail_ == nullptr || tail_->writable() == 0) {
      Chunk* chunk = pool_->Acquire();
      if (tail_ == nullptr) {
        head_ = tail_ = chunk;
      } else {
        tail_->next = chunk;
        tail_ = chunk;
      }
    }
    size_t n = std::min(bytes.size(), tail_->writable());
    std::memcpy(tail_->data + tail_->end, bytes.data(), n);
    tail_->end += static_cast<uint32_t>(n);
    bytes.remove_prefix(n);
  }
}

long OutputQueue::AppendFromFd(int fd, size_t max) {
  size_t total = 0;
  while (total < max) {
    bool fresh = tail_ == nullptr || tail_->writable() == 0;
    Chunk* target = fresh ? pool_->Acquire() : tail_;
    size_t want = std::min(max - total, target->writable());
    ssize_t n = read(fd, target->data + target->end, want);
    if (n <= 0) {
      if (fresh) pool_->Release(target);
      if (total > 0) break;
      return n;
    }
    if (fresh) {
      if (tail_ == nullptr) {
        head_ = target;
      } else {
        tail_->next = target;
      }
      tail_ = target;
    }
    target->end += static_cast<uint32_t>(n);
    total += static_cast<size_t>(n);
    size_ += static_cast<size_t>(n);
    pool_->AddQueued(n);
    if (static_cast<size_t>(n) < want) break;
  }
  return static_cast<long>(total);
}

long OutputQueue::AppendFromFdWithSpill(int fd, size_t max, char* spill, size_t spill_size,
                                        size_t* spilled) {
  *spilled = 0;
  max = std::min(max, kMaxSpillQueueBytes);
  constexpr int kMaxTargets = kMaxSpillQueueBytes / Chunk::kCapacity + 2;
  Chunk* targets[kMaxTargets];
  bool fresh[kMaxTargets];
  iovec slices[kMaxTargets + 1];
  int count = 0;
  size_t planned = 0;
  if (tail_ != nullptr && tail_->writable() > 0 && max > 0) {
    targets[count] = tail_;
    fresh[count] = false;
    slices[count].iov_base = tail_->data + tail_->end;
    slices[count].iov_len = std::min(tail_->writable(), max);
    planned += slices[count].iov_len;
    ++count;
  }
  while (planned < max && count < kMaxTargets) {
    Chunk* chunk = pool_->Acquire();
    targets[count] = chunk;
    fresh[count] = true;
    slices[count].iov_base = chunk->data;
    slices[count].iov_len = std::min<size_t>(Chunk::kCapacity, max - planned);
    planned += slices[count].iov_len;
    ++count;
  }
  int slice_count = count;
  if (spill_size > 0) {
    slices[slice_count].iov_base = spill;
    slices[slice_count].iov_len = spill_size;
    ++slice_count;
  }
  ssize_t n = readv(fd, slices, slice_count);
  size_t left = n > 0 ? std::min(static_cast<size_t>(n), planned) : 0;
  size_t queued = left;
  for (int i = 0; i < count; ++i) {
    size_t take = std::min(left, slices[i].iov_len);
    left -= take;
    if (take == 0 && fresh[i]) {
      pool_->Release(targets[i]);
      continue;
    }
    targets[i]->end += static_cast<uint32_t>(take);
    if (fresh[i]) {
      if (tail_ == nullptr) {
        head_ = targets[i];
      } else {
        tail_->next = targets[i];
      }
      tail_ = targets[i];
    }
  }
  if (n <= 0) return n;
  size_ += queued;
  pool_->AddQueued(static_cast<int64_t>(queued));
  *spilled = static_cast<size_t>(n) - queued;
  return n;
}

OutputQueue::WriteResult OutputQueue::WriteTo(int fd) {
  WriteResult result;
  iovec slices[IOV_MAX];
  while (size_ > 0) {
    int count = 0;
    size_t offered = 0;
    for (Chunk* chunk = head_; chunk != nullptr && count < IOV_MAX; chunk = chunk->next) {
      if (chunk->readable() == 0) continue;
      slices[count].iov_base = chunk->data + chunk->begin;
      slices[count].iov_len = chunk->readable();
      offered += chunk->readable();
      ++count;
    }
    msghdr message{};
    message.msg_iov = slices;
    message.msg_iovlen = static_cast<size_t>(count);
    ssize_t n = sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        result.would_block = true;
      } else {
        result.error = errno;
      }
      break;
    }
    size_t remaining = static_cast<size_t>(n);
    result.written += remaining;
    size_ -= remaining;
    pool_->AddQueued(-n);
    while (remaining > 0) {
      size_t take = std::min(remaining, head_->readable());
      head_->begin += static_cast<uint32_t>(take);
      remaining -= take;
      if (head_->readable() == 0) PopFrontChunk();
    }
    if (static_cast<size_t>(n) < offered) {
      // A short write on a non-blocking socket: its send buffer is full; EPOLLOUT will tell.
      result.would_block = true;
      break;
    }
  }
  return result;
}

std::string_view OutputQueue::front() const {
  for (Chunk* chunk = head_; chunk != nullptr; chunk = chunk->next) {
    if (chunk->readable() > 0) return {chunk->data + chunk->begin, chunk->readable()};
  }
  return {};
}

void OutputQueue::Consume(size_t n) {
  size_ -= n;
  pool_->AddQueued(-static_cast<int64_t>(n));
  while (n > 0) {
    size_t take = std::min(n, head_->readable());
    head_->begin += static_cast<uint32_t>(take);
    n -= take;
    if (head_->readable() == 0) PopFrontChunk();
  }
}

void OutputQueue::PopFrontChunk() {
  Chunk* chunk = head_;
  head_ = chunk->next;
  if (head_ == nullptr) tail_ = nullptr;
  pool_->Release(chunk);
}

void OutputQueue::Clear() {
  pool_->AddQueued(-static_cast<int64_t>(size_));
  size_ = 0;
  while (head_ != nullptr) PopFrontChunk();
}

}  // namespace shoal::core
