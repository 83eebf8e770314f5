#include "tests/support/proxy_wire.h"

#include <netinet/in.h>

#include <cstring>

#include "core/socket.h"
#include "gtest/gtest.h"

namespace shoal::testing {

namespace {

core::SocketAddress Address(std::string_view text) {
  auto address = core::SocketAddress::Parse(text);
  EXPECT_TRUE(address.ok()) << text;
  return address.ok() ? *address : core::SocketAddress();
}

std::string HostText(const core::SocketAddress& address) {
  std::string text = address.ToString();
  text.resize(text.rfind(':'));
  if (!text.empty() && text.front() == '[') text = text.substr(1, text.size() - 2);
  return text;
}

void AppendBigEndian16(std::string& out, size_t value) {
  out.push_back(static_cast<char>((value >> 8) & 0xff));
  out.push_back(static_cast<char>(value & 0xff));
}

void AppendAddressBytes(std::string& out, const core::SocketAddress& address) {
  if (address.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address.sockaddr_ptr());
    out.append(reinterpret_cast<const char*>(&in->sin_addr), 4);
  } else {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address.sockaddr_ptr());
    out.append(reinterpret_cast<const char*>(&in6->sin6_addr), 16);
  }
}

}  // namespace

std::string ProxyV2Signature() { return std::string("\r\n\r\n\0\r\nQUIT\n", 12); }

std::string ProxyV1(std::string_view source, std::string_view destination) {
  core::SocketAddress from = Address(source);
  core::SocketAddress to = Address(destination);
  if (from.family() == 0 || from.family() != to.family()) return "";
  return std::string("PROXY ") + (from.family() == AF_INET ? "TCP4 " : "TCP6 ") + HostText(from) +
         " " + HostText(to) + " " + std::to_string(from.port()) + " " +
         std::to_string(to.port()) + "\r\n";
}

std::string ProxyV2(std::string_view source, std::string_view destination,
                    const std::vector<ProxyTlv>& tlvs) {
  core::SocketAddress from = Address(source);
  core::SocketAddress to = Address(destination);
  if (from.family() == 0 || from.family() != to.family()) return "";
  std::string body;
  AppendAddressBytes(body, from);
  AppendAddressBytes(body, to);
  AppendBigEndian16(body, from.port());
  AppendBigEndian16(body, to.port());
  for (const ProxyTlv& tlv : tlvs) {
    body.push_back(static_cast<char>(tlv.type));
    AppendBigEndian16(body, tlv.value.size());
    body += tlv.value;
  }
  std::string header = ProxyV2Signature();
  header.push_back(static_cast<char>(0x21));
  header.push_back(static_cast<char>(from.family() == AF_INET ? 0x11 : 0x21));
  AppendBigEndian16(header, body.size());
  return header + body;
}

std::string ProxyV2Local() {
  std::string header = ProxyV2Signature();
  header.push_back(static_cast<char>(0x20));
  header.push_back(static_cast<char>(0x00));
  AppendBigEndian16(header, 0);
  return header;
}

}  // namespace shoal::testing
