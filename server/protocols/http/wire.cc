#include "server/protocols/http/wire.h"

#include <algorithm>

namespace shoal::http {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Record `record` of the /bytes pattern.
void FormatRecord(uint64_t record, char (&out)[kTestBytesRecord]) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t offset = record * kTestBytesRecord;
  out[kTestBytesRecord - 1] = '\n';
  for (size_t i = kTestBytesRecord - 1; i-- > 0;) {
    out[i] = kHex[offset & 15];
    offset >>= 4;
  }
}

// Calls on_piece(position in the range, piece of the pattern) over [offset, offset + count).
template <typename OnPiece>
void ForEachTestBytesPiece(uint64_t offset, size_t count, OnPiece on_piece) {
  char record[kTestBytesRecord];
  size_t done = 0;
  while (done < count) {
    const uint64_t at = offset + done;
    FormatRecord(at / kTestBytesRecord, record);
    const size_t skip = static_cast<size_t>(at % kTestBytesRecord);
    const size_t take = std::min(kTestBytesRecord - skip, count - done);
    if (!on_piece(done, std::string_view(record + skip, take))) return;
    done += take;
  }
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

void AppendTestBytes(uint64_t offset, size_t count, std::string& out) {
  out.reserve(out.size() + count);
  ForEachTestBytesPiece(offset, count, [&](size_t, std::string_view piece) {
    out.append(piece);
    return true;
  });
}

size_t FindTestBytesMismatch(uint64_t offset, std::string_view bytes) {
  size_t mismatch = std::string_view::npos;
  ForEachTestBytesPiece(offset, bytes.size(), [&](size_t position, std::string_view piece) {
    for (size_t i = 0; i < piece.size(); ++i) {
      if (bytes[position + i] != piece[i]) {
        mismatch = position + i;
        return false;
      }
    }
    return true;
  });
  return mismatch;
}

}  // namespace shoal::http
