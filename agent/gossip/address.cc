#include <arpa/inet.h>

#include <charconv>

#include "agent/gossip/types.h"

namespace cairn::gossip {

std::string Address::ip_str() const {
  char buf[INET_ADDRSTRLEN];
  uint32_t n = htonl(ip);
  inet_ntop(AF_INET, &n, buf, sizeof buf);
  return buf;
}

std::string Address::str() const {
  return ip_str() + ":" + std::to_string(port);
}

std::array<uint8_t, 4> Address::ip_bytes() const {
  return {uint8_t(ip >> 24), uint8_t(ip >> 16), uint8_t(ip >> 8), uint8_t(ip)};
}

Address Address::from_ip_bytes(const uint8_t* p, uint16_t port) {
  return Address{(uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3],
                 port};
}

bool Address::parse(std::string_view text, uint16_t default_port, Address& out) {
  if (auto slash = text.find('/'); slash != std::string_view::npos) text.remove_prefix(slash + 1);
  std::string_view host = text;
  uint16_t port = default_port;
  if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    auto p = text.substr(colon + 1);
    unsigned v = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || end != p.data() + p.size() || v == 0 || v > 65535) return false;
    port = static_cast<uint16_t>(v);
  }
  std::string h(host);
  in_addr a{};
  if (inet_pton(AF_INET, h.c_str(), &a) != 1) return false;
  out.ip = ntohl(a.s_addr);
  out.port = port;
  return port != 0;
}

std::string_view status_name(NodeStatus s) {
  switch (s) {
    case NodeStatus::alive:
      return "alive";
    case NodeStatus::suspect:
      return "suspect";
    case NodeStatus::dead:
      return "dead";
    case NodeStatus::left:
      return "left";
  }
  return "unknown";
}

}  // namespace cairn::gossip
