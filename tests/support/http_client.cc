#include "tests/support/http_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "tests/support/client_socket.h"

namespace shoal::testing {

RawClient::RawClient(uint16_t port, Deadline deadline) {
  auto fd = Connect(port, deadline);
  if (!fd.ok()) {
    last_error_ = "connect failed: " + fd.status().ToString();
    return;
  }
  fd_ = std::move(*fd);
}

bool RawClient::Send(std::string_view bytes, Deadline deadline) {
  if (auto status = SendAll(fd_.get(), bytes, deadline); !status.ok()) {
    last_error_ = status.ToString();
    return false;
  }
  return true;
}

bool RawClient::SendWhileReading(std::string_view bytes, Deadline deadline) {
  char chunk[65536];
  while (!bytes.empty()) {
    pollfd p{fd_.get(), static_cast<short>(POLLIN | POLLOUT), 0};
    if (poll(&p, 1, deadline.remaining_ms()) <= 0) {
      last_error_ = "send timed out";
      return false;
    }
    if (p.revents & POLLIN) {
      ssize_t n = recv(fd_.get(), chunk, sizeof(chunk), MSG_DONTWAIT);
      if (n > 0) buffer_.append(chunk, static_cast<size_t>(n));
      if (n == 0) {
        eof_ = true;
        last_error_ = "EOF while sending";
        return false;
      }
    }
    if (p.revents & (POLLOUT | POLLERR | POLLHUP)) {
      ssize_t n = send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        bytes.remove_prefix(static_cast<size_t>(n));
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        last_error_ = std::string("send: ") + std::strerror(errno);
        return false;
      }
    }
  }
  return true;
}

bool RawClient::ReadSome(Deadline deadline) {
  if (eof_) return false;
  char chunk[65536];
  for (;;) {
    ssize_t n = recv(fd_.get(), chunk, sizeof(chunk), MSG_DONTWAIT);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
    if (n == 0) {
      eof_ = true;
      last_error_ = "EOF";
      return false;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      eof_ = true;
      last_error_ = std::string("recv: ") + std::strerror(errno);
      return false;
    }
    pollfd p{fd_.get(), POLLIN, 0};
    if (poll(&p, 1, deadline.remaining_ms()) <= 0) {
      last_error_ = "timed out";
      return false;
    }
  }
}

std::optional<HttpResponse> RawClient::ReadResponse(bool head_request, Deadline deadline) {
  for (;;) {
    HttpResponse response;
    size_t consumed = 0;
    switch (ParseResponse(buffer_, head_request, &response, &consumed)) {
      case ParseOutcome::kDone:
        buffer_.erase(0, consumed);
        return response;
      case ParseOutcome::kMalformed:
        last_error_ = "malformed response (" + response.reason + "): " + buffer_;
        return std::nullopt;
      case ParseOutcome::kNeedMore:
        break;
    }
    if (!ReadSome(deadline)) {
      last_error_ += " while reading a response; have: " + buffer_;
      return std::nullopt;
    }
  }
}

std::optional<std::string> RawClient::ReadExactly(size_t n, Deadline deadline) {
  while (buffer_.size() < n) {
    if (!ReadSome(deadline)) return std::nullopt;
  }
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return out;
}

bool RawClient::WaitForClose(Deadline deadline) {
  while (!eof_) {
    if (!ReadSome(deadline) && !eof_) return false;  // timed out
  }
  if (!buffer_.empty()) {
    last_error_ = "bytes after the last response: " + buffer_;
    return false;
  }
  // A reset after all our data was read is still a close; ReadSome recorded it.
  return true;
}

std::optional<HttpResponse> HttpRequest(int port, std::string_view method,
                                        std::string_view target, Deadline deadline) {
  RawClient client(static_cast<uint16_t>(port), deadline);
  if (!client.connected()) return std::nullopt;
  std::string request = std::string(method) + " " + std::string(target) +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: shoal-test\r\n"
                        "Connection: close\r\n\r\n";
  if (!client.Send(request, deadline)) return std::nullopt;
  return client.ReadResponse(method == "HEAD", deadline);
}

}  // namespace shoal::testing
