// Codecs: requests are well-formed, responses are recognised however they are split, and with
// verification a changed byte, another request's payload or another connection's payload is
// caught.
#include "tools/loadgen/codec.h"

#include <gtest/gtest.h>

#include <string>

namespace shoal::loadgen {
namespace {

CodecOptions Echo(size_t size, bool verify) {
  CodecOptions options;
  options.protocol = "echo";
  options.size = size;
  options.verify = verify;
  return options;
}

// Every proper prefix of `reply` decodes as incomplete; `reply` followed by `next` decodes as
// exactly `reply`, which is returned.
Codec::Decoded DecodeWholeOnlyAtTheEnd(Codec& codec, const std::string& reply,
                                       const std::string& next, uint64_t seq) {
  for (size_t n = 0; n < reply.size(); ++n) {
    EXPECT_EQ(codec.DecodeResponse(std::string_view(reply).substr(0, n), seq).status,
              Codec::Status::kIncomplete)
        << n;
  }
  Codec::Decoded decoded = codec.DecodeResponse(reply + next, seq);
  EXPECT_EQ(decoded.status, Codec::Status::kComplete);
  EXPECT_EQ(decoded.consumed, reply.size());
  return decoded;
}

TEST(PayloadTest, DependsOnConnectionAndSequence) {
  std::string a(100, '\0'), b(100, '\0'), c(100, '\0');
  FillPayload(1, 7, a.data(), a.size());
  FillPayload(1, 8, b.data(), b.size());
  FillPayload(2, 7, c.data(), c.size());
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
  EXPECT_TRUE(PayloadMatches(1, 7, a.data(), a.size()));
  EXPECT_FALSE(PayloadMatches(1, 8, a.data(), a.size()));
  EXPECT_FALSE(PayloadMatches(2, 7, a.data(), a.size()));
  for (size_t i = 0; i < a.size(); ++i) {
    std::string corrupted = a;
    corrupted[i] = static_cast<char>(corrupted[i] ^ 0x20);
    EXPECT_FALSE(PayloadMatches(1, 7, corrupted.data(), corrupted.size())) << i;
  }
  // At every size, each byte depends on the sequence: at most a chance collision (1/256 per
  // byte) between a payload and the next one's.
  for (size_t size : {1, 4, 8, 12, 16}) {
    int same = 0;
    for (uint64_t seq = 0; seq < 256; ++seq) {
      std::string first(size, '\0'), next(size, '\0');
      FillPayload(5, seq, first.data(), size);
      FillPayload(5, seq + 1, next.data(), size);
      for (size_t i = 0; i < size; ++i) same += first[i] == next[i];
    }
    EXPECT_LT(same, static_cast<int>(size) * 8) << size;
  }
  // Odd sizes use a partial last word.
  std::string odd(13, '\0');
  FillPayload(3, 3, odd.data(), odd.size());
  EXPECT_TRUE(PayloadMatches(3, 3, odd.data(), odd.size()));
}

TEST(EchoCodecTest, RequestIsALengthPrefixedFrame) {
  auto codec = MakeCodec(Echo(300, true), 5);
  std::string out;
  codec->AppendRequest(9, out);
  ASSERT_EQ(out.size(), 304u);
  EXPECT_EQ(out.substr(0, 4), std::string("\0\0\x01\x2c", 4));
  EXPECT_TRUE(PayloadMatches(5, 9, out.data() + 4, 300));
  EXPECT_EQ(codec->request_bytes(), 304u);
}

TEST(EchoCodecTest, DecodesAnEchoByteByByte) {
  auto codec = MakeCodec(Echo(64, true), 1);
  std::string frame;
  codec->AppendRequest(3, frame);
  DecodeWholeOnlyAtTheEnd(*codec, frame, "extra", 3);
}

TEST(EchoCodecTest, VerifyCatchesCorruptionAndSwaps) {
  auto codec = MakeCodec(Echo(64, true), 1);
  std::string first, second;
  codec->AppendRequest(0, first);
  codec->AppendRequest(1, second);
  EXPECT_EQ(codec->DecodeResponse(second, 0).status, Codec::Status::kMismatch);
  std::string corrupted = first;
  corrupted[40] = static_cast<char>(corrupted[40] + 1);
  EXPECT_EQ(codec->DecodeResponse(corrupted, 0).status, Codec::Status::kMismatch);
  EXPECT_EQ(codec->DecodeResponse(first, 0).status, Codec::Status::kComplete);
  // Another connection's frame.
  auto other = MakeCodec(Echo(64, true), 2);
  std::string foreign;
  other->AppendRequest(0, foreign);
  EXPECT_EQ(codec->DecodeResponse(foreign, 0).status, Codec::Status::kMismatch);
}

TEST(EchoCodecTest, WrongLengthIsAProtocolErrorEvenWithoutVerify) {
  auto codec = MakeCodec(Echo(64, false), 1);
  std::string frame = std::string("\0\0\0\x10", 4) + std::string(16, 'x');
  EXPECT_EQ(codec->DecodeResponse(frame, 0).status, Codec::Status::kProtocolError);
}

TEST(EchoCodecTest, WithoutVerifyContentIsNotChecked) {
  auto codec = MakeCodec(Echo(8, false), 1);
  std::string frame = std::string("\0\0\0\x08", 4) + "anything";
  EXPECT_EQ(codec->DecodeResponse(frame, 0).status, Codec::Status::kComplete);
}

TEST(EchoCodecTest, ZeroLengthFrames) {
  auto codec = MakeCodec(Echo(0, true), 1);
  std::string out;
  codec->AppendRequest(0, out);
  EXPECT_EQ(out, std::string(4, '\0'));
  EXPECT_EQ(codec->DecodeResponse(out, 0).consumed, 4u);
}

TEST(HttpCodecTest, PlaintextRequestAndResponse) {
  CodecOptions options;
  options.protocol = "http";
  options.verify = true;
  options.host = "example";
  auto codec = MakeCodec(options, 1);
  std::string request;
  codec->AppendRequest(0, request);
  EXPECT_EQ(request, "GET /plaintext HTTP/1.1\r\nHost: example\r\n\r\n");
  const std::string response =
      "HTTP/1.1 200 OK\r\nDate: x\r\nContent-Type: text/plain\r\ncontent-length: 13\r\n\r\n"
      "Hello, World!";
  auto decoded = DecodeWholeOnlyAtTheEnd(*codec, response, "HTTP/1.1", 0);
  EXPECT_FALSE(decoded.close_after);

  std::string wrong = response;
  wrong[wrong.size() - 1] = '?';
  EXPECT_EQ(codec->DecodeResponse(wrong, 0).status, Codec::Status::kMismatch);
  EXPECT_EQ(codec->DecodeResponse("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 0).status,
            Codec::Status::kBadStatus);
  auto closing = codec->DecodeResponse(
      "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 13\r\n\r\nHello, World!", 0);
  EXPECT_TRUE(closing.close_after);
  EXPECT_EQ(codec->DecodeResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0).status,
            Codec::Status::kProtocolError);
  EXPECT_EQ(codec->DecodeResponse("garbage\r\n\r\n", 0).status, Codec::Status::kProtocolError);
}

TEST(HttpCodecTest, EchoPostsAVerifiedBody) {
  CodecOptions options;
  options.protocol = "http";
  options.http = HttpRequest::kEcho;
  options.size = 100;
  options.verify = true;
  auto codec = MakeCodec(options, 4);
  std::string request;
  codec->AppendRequest(2, request);
  const size_t head_end = request.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_NE(request.find("POST /echo HTTP/1.1\r\n"), std::string::npos);
  EXPECT_NE(request.find("Content-Length: 100\r\n"), std::string::npos);
  const std::string body = request.substr(head_end + 4);
  ASSERT_EQ(body.size(), 100u);
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + body;
  EXPECT_EQ(codec->DecodeResponse(response, 2).status, Codec::Status::kComplete);
  EXPECT_EQ(codec->DecodeResponse(response, 3).status, Codec::Status::kMismatch);
}

TEST(RespCodecTest, PingAndEcho) {
  CodecOptions options;
  options.protocol = "resp";
  options.size = 0;
  options.verify = true;
  auto ping = MakeCodec(options, 1);
  std::string request;
  ping->AppendRequest(0, request);
  EXPECT_EQ(request, "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(ping->DecodeResponse("+PONG\r\n", 0).consumed, 7u);
  EXPECT_EQ(ping->DecodeResponse("+PON", 0).status, Codec::Status::kIncomplete);
  EXPECT_EQ(ping->DecodeResponse("-ERR no\r\n", 0).status, Codec::Status::kBadStatus);

  options.size = 10;
  auto echo = MakeCodec(options, 1);
  request.clear();
  echo->AppendRequest(5, request);
  ASSERT_EQ(request.rfind("*2\r\n$4\r\nECHO\r\n$10\r\n", 0), 0u);
  const std::string payload = request.substr(request.size() - 12, 10);
  const std::string reply = "$10\r\n" + payload + "\r\n";
  EXPECT_EQ(echo->DecodeResponse(reply, 5).status, Codec::Status::kComplete);
  EXPECT_EQ(echo->DecodeResponse(reply, 6).status, Codec::Status::kMismatch);
  EXPECT_EQ(echo->DecodeResponse(reply.substr(0, 8), 5).status, Codec::Status::kIncomplete);
}

TEST(ProtocolNamesTest, TheServersNames) {
  for (std::string_view name : ProtocolNames()) {
    EXPECT_TRUE(KnownProtocol(name));
    CodecOptions options;
    options.protocol = std::string(name);
    EXPECT_NE(MakeCodec(options, 1), nullptr) << name;
  }
  EXPECT_EQ(ProtocolNames().size(), 3u);
  EXPECT_FALSE(KnownProtocol("smtp"));
  CodecOptions smtp;
  smtp.protocol = "smtp";
  EXPECT_EQ(MakeCodec(smtp, 1), nullptr);
}

}  // namespace
}  // namespace shoal::loadgen
