#include "tests/integration/http/http_test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "core/socket.h"
#include "server/protocols/http/http_protocol.h"

namespace shoal::http_test {

int Deadline::remaining_ms() const {
  auto left = std::chrono::ceil<milliseconds>(at_ - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1 << 30));
}

bool WaitFor(const std::function<bool()>& condition, Deadline deadline) {
  for (;;) {
    if (condition()) return true;
    if (deadline.expired()) return condition();
    // Bounded poll interval while waiting for the condition (not a synchronisation sleep).
    poll(nullptr, 0, 1);
  }
}

// ---------------------------------------------------------------------------------------------

HttpTestServer::HttpTestServer(const HttpTestServerOptions& options) {
  core::ServerOptions server_options;
  server_options.workers = options.workers;
  server_options.settings = options.settings;
  auto address = core::SocketAddress::Parse("127.0.0.1:0");
  server_options.listeners.push_back({"http", *address, 1024, true});
  std::shared_ptr<const http::Router> router =
      options.router != nullptr ? options.router : http::MakeDefaultRouter();
  http::Limits limits = options.limits;
  auto server = core::Server::Create(server_options, [limits, router](size_t, int) {
    return std::make_unique<http::HttpProtocol>(limits, router);
  });
  if (!server.ok()) {
    error_ = server.status().ToString();
    return;
  }
  if (auto status = (*server)->Start(); !status.ok()) {
    error_ = status.ToString();
    return;
  }
  server_ = std::move(*server);
  port_ = server_->bound_addresses()[0].port();
}

HttpTestServer::~HttpTestServer() {
  if (server_ != nullptr) server_->Stop();
}

uint64_t HttpTestServer::bytes_received() const {
  uint64_t sum = 0;
  for (const auto& worker : server_->workers()) {
    sum += worker->stats().listeners[0]->bytes_received.value();
  }
  return sum;
}

uint64_t HttpTestServer::requests() const {
  uint64_t sum = 0;
  for (const auto& worker : server_->workers()) {
    sum += worker->stats().listeners[0]->requests.value();
  }
  return sum;
}

uint64_t HttpTestServer::closed(core::CloseReason reason) const {
  uint64_t sum = 0;
  for (const auto& worker : server_->workers()) {
    sum += worker->stats().listeners[0]->closed[static_cast<size_t>(reason)].value();
  }
  return sum;
}

int64_t HttpTestServer::active() const {
  int64_t sum = 0;
  for (const auto& worker : server_->workers()) {
    sum += worker->stats().listeners[0]->active.value();
  }
  return sum;
}

// ---------------------------------------------------------------------------------------------

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (EqualsIgnoreCase(field, name)) return value;
  }
  return std::nullopt;
}

size_t HttpResponse::HeaderCount(std::string_view name) const {
  return static_cast<size_t>(std::count_if(headers.begin(), headers.end(), [&](const auto& h) {
    return EqualsIgnoreCase(h.first, name);
  }));
}

ParseOutcome ParseResponse(std::string_view data, bool head_request, HttpResponse* out,
                           size_t* consumed) {
  const size_t head_end = data.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return ParseOutcome::kNeedMore;
  HttpResponse response;
  std::string_view head = data.substr(0, head_end + 2);
  auto fail = [&](std::string why) {
    out->reason = std::move(why);
    return ParseOutcome::kMalformed;
  };

  size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  head.remove_prefix(line_end + 2);
  // "HTTP/1.1 200 OK"
  if (status_line.size() < 13 || !status_line.starts_with("HTTP/1.1 ") || status_line[12] != ' ') {
    return fail("bad status line: " + std::string(status_line));
  }
  std::string_view code = status_line.substr(9, 3);
  if (std::from_chars(code.data(), code.data() + 3, response.status).ptr != code.data() + 3) {
    return fail("bad status code: " + std::string(status_line));
  }
  response.reason = std::string(status_line.substr(13));

  while (!head.empty()) {
    line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    head.remove_prefix(line_end + 2);
    if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos) {
      return fail("bare CR or LF in a header line");
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return fail("bad header line: " + std::string(line));
    }
    response.headers.emplace_back(std::string(line.substr(0, colon)),
                                  std::string(Trim(line.substr(colon + 1))));
  }

  size_t body_length = 0;
  const bool has_body = !head_request && response.status >= 200 && response.status != 204 &&
                        response.status != 304;
  if (response.status >= 200 && response.status != 204) {
    if (response.HeaderCount("Content-Length") != 1) return fail("not one Content-Length");
    std::string value = *response.Header("Content-Length");
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), body_length);
    if (ec != std::errc() || ptr != value.data() + value.size()) {
      return fail("bad Content-Length: " + value);
    }
  } else if (response.Header("Content-Length")) {
    return fail("Content-Length on a 1xx or 204 response");
  }
  if (response.Header("Transfer-Encoding")) return fail("unexpected Transfer-Encoding");

  const size_t body_start = head_end + 4;
  const size_t total = body_start + (has_body ? body_length : 0);
  if (data.size() < total) return ParseOutcome::kNeedMore;
  response.body = std::string(data.substr(body_start, total - body_start));
  response.raw = std::string(data.substr(0, total));
  *out = std::move(response);
  *consumed = total;
  return ParseOutcome::kDone;
}

bool IsImfFixdate(std::string_view v) {
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  static constexpr std::string_view kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (v.size() != 29) return false;
  auto digits = [&](size_t at, size_t n) {
    for (size_t i = at; i < at + n; ++i) {
      if (v[i] < '0' || v[i] > '9') return false;
    }
    return true;
  };
  auto one_of = [](std::string_view s, const auto& list) {
    return std::find(std::begin(list), std::end(list), s) != std::end(list);
  };
  return one_of(v.substr(0, 3), kDays) && v.substr(3, 2) == ", " && digits(5, 2) && v[7] == ' ' &&
         one_of(v.substr(8, 3), kMonths) && v[11] == ' ' && digits(12, 4) && v[16] == ' ' &&
         digits(17, 2) && v[19] == ':' && digits(20, 2) && v[22] == ':' && digits(23, 2) &&
         v.substr(25) == " GMT";
}

std::string ExpectedResponse(int status, std::string_view date, std::string_view content_type,
                             std::string_view body, bool head_request,
                             std::string_view connection_field, std::string_view extra_fields) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  switch (status) {
    case 200: out += "OK"; break;
    case 400: out += "Bad Request"; break;
    case 404: out += "Not Found"; break;
    case 405: out += "Method Not Allowed"; break;
    case 413: out += "Content Too Large"; break;
    case 414: out += "URI Too Long"; break;
    case 417: out += "Expectation Failed"; break;
    case 431: out += "Request Header Fields Too Large"; break;
    case 501: out += "Not Implemented"; break;
    case 505: out += "HTTP Version Not Supported"; break;
    default: out += "?"; break;
  }
  out += "\r\nDate: ";
  out += date;
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (!connection_field.empty()) {
    out += "Connection: ";
    out += connection_field;
    out += "\r\n";
  }
  out += extra_fields;
  out += "\r\n";
  if (!head_request) out += body;
  return out;
}

// ---------------------------------------------------------------------------------------------

RawClient::RawClient(uint16_t port, Deadline deadline) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    last_error_ = std::string("socket: ") + std::strerror(errno);
    return;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    rc = poll(&p, 1, deadline.remaining_ms()) == 1 && core::PendingError(fd) == 0 ? 0 : -1;
  }
  if (rc != 0) {
    last_error_ = "connect failed";
    close(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fd_ = fd;
}

RawClient::~RawClient() { Close(); }

void RawClient::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

bool RawClient::Send(std::string_view bytes, Deadline deadline) {
  while (!bytes.empty()) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (poll(&p, 1, deadline.remaining_ms()) <= 0) {
        last_error_ = "send timed out";
        return false;
      }
      continue;
    }
    last_error_ = std::string("send: ") + std::strerror(errno);
    return false;
  }
  return true;
}

bool RawClient::SendWhileReading(std::string_view bytes, Deadline deadline) {
  char chunk[65536];
  while (!bytes.empty()) {
    pollfd p{fd_, static_cast<short>(POLLIN | POLLOUT), 0};
    if (poll(&p, 1, deadline.remaining_ms()) <= 0) {
      last_error_ = "send timed out";
      return false;
    }
    if (p.revents & POLLIN) {
      ssize_t n = recv(fd_, chunk, sizeof(chunk), MSG_DONTWAIT);
      if (n > 0) buffer_.append(chunk, static_cast<size_t>(n));
      if (n == 0) {
        eof_ = true;
        last_error_ = "EOF while sending";
        return false;
      }
    }
    if (p.revents & (POLLOUT | POLLERR | POLLHUP)) {
      ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
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
    ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
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
    pollfd p{fd_, POLLIN, 0};
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

// ---------------------------------------------------------------------------------------------

std::optional<std::string> FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::stringstream stream(dirs);
  std::string dir;
  while (std::getline(stream, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

Subprocess::Subprocess(const std::vector<std::string>& argv) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return;
  }
  // Everything the child needs is prepared before fork(): it only dup2()s and exec()s.
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  int dev_null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_ = fork();
  if (pid_ == 0) {
    if (dev_null >= 0) dup2(dev_null, STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  if (dev_null >= 0) close(dev_null);
  close(out_pipe[1]);
  close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  fcntl(out_fd_, F_SETFL, O_NONBLOCK);
  fcntl(err_fd_, F_SETFL, O_NONBLOCK);
  if (pid_ < 0) exited_ = true;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

void Subprocess::Signal(int signal_number) {
  if (pid_ > 0 && !exited_) kill(pid_, signal_number);
}

void Subprocess::Pump(int timeout_ms) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (poll(fds, 2, timeout_ms) <= 0) return;
  char buffer[16384];
  for (int i = 0; i < 2; ++i) {
    if (fds[i].revents == 0) continue;
    std::string& sink = i == 0 ? out_ : err_;
    for (;;) {
      ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n <= 0) break;
      sink.append(buffer, static_cast<size_t>(n));
    }
  }
}

std::optional<std::string> Subprocess::WaitForStderrLine(std::string_view needle,
                                                         Deadline deadline) {
  for (;;) {
    size_t found = err_.find(needle);
    if (found != std::string::npos) {
      size_t line_end = err_.find('\n', found);
      if (line_end != std::string::npos) {
        size_t line_start = err_.rfind('\n', found);
        line_start = line_start == std::string::npos ? 0 : line_start + 1;
        return err_.substr(line_start, line_end - line_start);
      }
    }
    if (deadline.expired() || exited_) return std::nullopt;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      Pump(0);
      continue;
    }
    Pump(std::min(deadline.remaining_ms(), 50));
  }
}

std::optional<int> Subprocess::Wait(Deadline deadline) {
  if (pid_ <= 0) return std::nullopt;
  for (;;) {
    int status = 0;
    pid_t done = exited_ ? -1 : waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exited_ = true;
      // Drain what the pipes still hold (the child's descendants may keep them open: bounded).
      for (int i = 0; i < 20; ++i) Pump(i == 0 ? 0 : 5);
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return std::nullopt;
    }
    if (exited_ || deadline.expired()) return std::nullopt;
    Pump(std::min(deadline.remaining_ms(), 20));
  }
}

CommandResult RunCommand(const std::vector<std::string>& argv, Deadline deadline) {
  Subprocess process(argv);
  CommandResult result;
  result.exit_code = process.Wait(deadline);
  result.out = process.out();
  result.err = process.err();
  if (!process.exited()) result.err += "\n[killed at the deadline]";
  return result;
}

std::string WriteTempFile(const std::string& name, std::string_view contents) {
  const char* tmpdir = std::getenv("TEST_TMPDIR");
  std::string path = std::string(tmpdir != nullptr ? tmpdir : "/tmp") + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  return path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>(random());
  return out;
}

}  // namespace shoal::http_test
