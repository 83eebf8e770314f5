#include "tools/loadgen/codec.h"

#include "server/protocols/echo/frame.h"
#include "server/protocols/http/wire.h"
#include "server/protocols/resp/wire.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace shoal::loadgen {

namespace {

// splitmix64: a fast, well-mixed stream for payload bytes.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The 8-byte word `index` of a payload: every byte depends on the connection and the sequence, so
// a payload of any size (one byte included) tells requests apart.
uint64_t PayloadWord(uint64_t seed, size_t index) { return Mix(seed + index); }

uint64_t PayloadSeed(uint64_t connection_id, uint64_t seq) {
  return Mix(connection_id * 0x100000001b3ull ^ Mix(seq));
}

bool ParseSize(std::string_view text, size_t* value) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size();
}

void AppendNumber(std::string& out, uint64_t value) {
  char digits[24];
  char* end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
  out.append(digits, static_cast<size_t>(end - digits));
}

// Appends the payload of (connection, seq), or the connection's fixed payload without verify.
class PayloadSource {
 public:
  PayloadSource(uint64_t connection_id, size_t size, bool verify)
      : connection_id_(connection_id), size_(size), verify_(verify) {
    if (!verify_) {
      fixed_.resize(size_);
      FillPayload(connection_id_, 0, fixed_.data(), size_);
    }
  }
  void Append(uint64_t seq, std::string& out) const {
    if (!verify_) {
      out.append(fixed_);
      return;
    }
    size_t start = out.size();
    out.resize(start + size_);
    FillPayload(connection_id_, seq, out.data() + start, size_);
  }
  bool Matches(uint64_t seq, std::string_view data) const {
    return data.size() == size_ && PayloadMatches(connection_id_, seq, data.data(), data.size());
  }
  size_t size() const { return size_; }
  bool verify() const { return verify_; }

 private:
  uint64_t connection_id_;
  size_t size_;
  bool verify_;
  std::string fixed_;
};

// The echo protocol: a 4-byte big-endian length, then the payload; the response is identical.
class EchoCodec final : public Codec {
 public:
  EchoCodec(const CodecOptions& options, uint64_t connection_id)
      : payload_(connection_id, options.size, options.verify) {}

  void AppendRequest(uint64_t seq, std::string& out) override {
    server::AppendEchoHeader(static_cast<uint32_t>(payload_.size()), out);
    payload_.Append(seq, out);
  }

  Decoded DecodeResponse(std::string_view input, uint64_t seq) override {
    constexpr size_t kHeader = server::kEchoHeaderBytes;
    if (input.size() < kHeader) return {};
    const uint64_t length = server::DecodeEchoLength(input);
    if (length != payload_.size()) return {Status::kProtocolError, 0, false};
    if (input.size() < kHeader + length) return {};
    Decoded decoded{Status::kComplete, kHeader + length, false};
    if (payload_.verify() && !payload_.Matches(seq, input.substr(kHeader, length))) {
      decoded.status = Status::kMismatch;
    }
    return decoded;
  }

  size_t request_bytes() const override { return server::kEchoHeaderBytes + payload_.size(); }

 private:
  PayloadSource payload_;
};

constexpr std::string_view kPlaintextBody = "Hello, World!";
constexpr size_t kMaxHttpHeaderBytes = 64 << 10;

// HTTP/1.1 keep-alive: GET /plaintext or POST /echo. Responses must carry Content-Length (or be
// bodiless: 1xx, 204, 304); chunked responses are reported as protocol errors.
class HttpCodec final : public Codec {
 public:
  HttpCodec(const CodecOptions& options, uint64_t connection_id)
      : kind_(options.http),
        payload_(connection_id, options.http == HttpRequest::kEcho ? options.size : 0,
                 options.verify),
        verify_(options.verify) {
    if (kind_ == HttpRequest::kPlaintext) {
      head_ = "GET /plaintext HTTP/1.1\r\nHost: " + options.host + "\r\n\r\n";
    } else {
      head_ = "POST /echo HTTP/1.1\r\nHost: " + options.host +
              "\r\nContent-Type: application/octet-stream\r\nContent-Length: ";
      AppendNumber(head_, options.size);
      head_ += "\r\n\r\n";
    }
  }

  void AppendRequest(uint64_t seq, std::string& out) override {
    out.append(head_);
    if (kind_ == HttpRequest::kEcho) payload_.Append(seq, out);
  }

  Decoded DecodeResponse(std::string_view input, uint64_t seq) override {
    if (header_bytes_ == 0) {
      size_t from = scanned_ >= 3 ? scanned_ - 3 : 0;
      size_t end = input.find("\r\n\r\n", from);
      if (end == std::string_view::npos) {
        scanned_ = input.size();
        if (input.size() > kMaxHttpHeaderBytes) return Fail();
        return {};
      }
      header_bytes_ = end + 4;
      if (!ParseHead(input.substr(0, end))) return Fail();
    }
    if (input.size() < header_bytes_ + body_bytes_) return {};
    Decoded decoded{Status::kComplete, header_bytes_ + body_bytes_, close_};
    std::string_view body = input.substr(header_bytes_, body_bytes_);
    if (status_code_ < 200 || status_code_ > 299) {
      decoded.status = Status::kBadStatus;
    } else if (verify_) {
      bool ok = kind_ == HttpRequest::kPlaintext ? body == kPlaintextBody
                                                 : payload_.Matches(seq, body);
      if (!ok) decoded.status = Status::kMismatch;
    }
    Reset();
    return decoded;
  }

  size_t request_bytes() const override {
    return head_.size() + (kind_ == HttpRequest::kEcho ? payload_.size() : 0);
  }

 private:
  Decoded Fail() {
    Reset();
    return {Status::kProtocolError, 0, false};
  }

  void Reset() {
    header_bytes_ = body_bytes_ = scanned_ = 0;
    status_code_ = 0;
    close_ = false;
  }

  bool ParseHead(std::string_view head) {
    size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    // "HTTP/1.1 200 OK"
    if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ') {
      return false;
    }
    size_t code = 0;
    if (!ParseSize(status_line.substr(9, 3), &code)) return false;
    status_code_ = static_cast<int>(code);
    if (status_line[7] == '0') close_ = true;  // HTTP/1.0 closes unless it says keep-alive
    bool have_length = false;
    while (line_end != std::string_view::npos) {
      size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      std::string_view line = head.substr(start, line_end == std::string_view::npos
                                                     ? std::string_view::npos
                                                     : line_end - start);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) return false;
      std::string_view name = line.substr(0, colon);
      std::string_view value = http::TrimOws(line.substr(colon + 1));
      if (http::EqualsIgnoreCase(name, "content-length")) {
        if (!ParseSize(value, &body_bytes_)) return false;
        have_length = true;
      } else if (http::EqualsIgnoreCase(name, "transfer-encoding")) {
        return false;  // chunked responses are not supported
      } else if (http::EqualsIgnoreCase(name, "connection")) {
        if (http::EqualsIgnoreCase(value, "close")) close_ = true;
        if (http::EqualsIgnoreCase(value, "keep-alive")) close_ = false;
      }
    }
    bool bodiless = status_code_ < 200 || status_code_ == 204 || status_code_ == 304;
    if (!have_length && !bodiless) return false;
    if (bodiless) body_bytes_ = 0;
    return true;
  }

  HttpRequest kind_;
  PayloadSource payload_;
  bool verify_;
  std::string head_;
  size_t header_bytes_ = 0;
  size_t body_bytes_ = 0;
  size_t scanned_ = 0;
  int status_code_ = 0;
  bool close_ = false;
};

// RESP2: PING (size 0, expects +PONG) or ECHO <payload> (expects the bulk string back).
class RespCodec final : public Codec {
 public:
  RespCodec(const CodecOptions& options, uint64_t connection_id)
      : payload_(connection_id, options.size, options.verify) {
    if (options.size == 0) {
      server::AppendRespArrayHeader(1, head_);
      server::AppendRespBulk("PING", head_);
    } else {
      server::AppendRespArrayHeader(2, head_);
      server::AppendRespBulk("ECHO", head_);
      server::AppendRespBulkHeader(options.size, head_);
    }
  }

  void AppendRequest(uint64_t seq, std::string& out) override {
    out.append(head_);
    if (payload_.size() > 0) {
      payload_.Append(seq, out);
      out.append("\r\n");
    }
  }

  Decoded DecodeResponse(std::string_view input, uint64_t seq) override {
    size_t line_end = input.find("\r\n");
    if (line_end == std::string_view::npos) {
      if (input.size() > 1024) return {Status::kProtocolError, 0, false};
      return {};
    }
    std::string_view line = input.substr(0, line_end);
    if (line.empty()) return {Status::kProtocolError, 0, false};
    switch (line[0]) {
      case '+': {
        Decoded decoded{Status::kComplete, line_end + 2, false};
        if (payload_.size() != 0 || line != "+PONG") decoded.status = Status::kMismatch;
        return decoded;
      }
      case '-':
        return {Status::kBadStatus, line_end + 2, false};
      case '$': {
        size_t length = 0;
        if (!ParseSize(line.substr(1), &length)) return {Status::kProtocolError, 0, false};
        size_t total = line_end + 2 + length + 2;
        if (input.size() < total) return {};
        if (input.substr(total - 2, 2) != "\r\n") return {Status::kProtocolError, 0, false};
        Decoded decoded{Status::kComplete, total, false};
        if (length != payload_.size()) {
          decoded.status = Status::kMismatch;
        } else if (payload_.verify() && !payload_.Matches(seq, input.substr(line_end + 2, length))) {
          decoded.status = Status::kMismatch;
        }
        return decoded;
      }
      default:
        return {Status::kProtocolError, 0, false};
    }
  }

  size_t request_bytes() const override {
    return head_.size() + (payload_.size() > 0 ? payload_.size() + 2 : 0);
  }

 private:
  PayloadSource payload_;
  std::string head_;
};

constexpr std::array<std::string_view, 3> kProtocolNames = {server::kEchoName, http::kHttpName,
                                                             server::kRespName};

}  // namespace

std::span<const std::string_view> ProtocolNames() { return kProtocolNames; }

bool KnownProtocol(std::string_view name) {
  return std::find(kProtocolNames.begin(), kProtocolNames.end(), name) != kProtocolNames.end();
}

std::string_view HttpRequestName(HttpRequest request) {
  return request == HttpRequest::kPlaintext ? "plaintext" : "echo";
}

bool ParseHttpRequest(std::string_view text, HttpRequest* request) {
  if (text == "plaintext") {
    *request = HttpRequest::kPlaintext;
  } else if (text == "echo") {
    *request = HttpRequest::kEcho;
  } else {
    return false;
  }
  return true;
}

void FillPayload(uint64_t connection_id, uint64_t seq, char* out, size_t size) {
  const uint64_t seed = PayloadSeed(connection_id, seq);
  size_t index = 0;
  for (; (index + 1) * 8 <= size; ++index) {
    uint64_t word = PayloadWord(seed, index);
    std::memcpy(out + index * 8, &word, 8);
  }
  if (index * 8 < size) {
    uint64_t word = PayloadWord(seed, index);
    std::memcpy(out + index * 8, &word, size - index * 8);
  }
}

bool PayloadMatches(uint64_t connection_id, uint64_t seq, const char* data, size_t size) {
  const uint64_t seed = PayloadSeed(connection_id, seq);
  size_t index = 0;
  for (; (index + 1) * 8 <= size; ++index) {
    uint64_t word = PayloadWord(seed, index);
    if (std::memcmp(data + index * 8, &word, 8) != 0) return false;
  }
  if (index * 8 < size) {
    uint64_t word = PayloadWord(seed, index);
    if (std::memcmp(data + index * 8, &word, size - index * 8) != 0) return false;
  }
  return true;
}

std::unique_ptr<Codec> MakeCodec(const CodecOptions& options, uint64_t connection_id) {
  if (options.protocol == server::kEchoName) {
    return std::make_unique<EchoCodec>(options, connection_id);
  }
  if (options.protocol == http::kHttpName) {
    return std::make_unique<HttpCodec>(options, connection_id);
  }
  if (options.protocol == server::kRespName) {
    return std::make_unique<RespCodec>(options, connection_id);
  }
  return nullptr;
}

}  // namespace shoal::loadgen
