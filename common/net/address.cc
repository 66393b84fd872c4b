#include "common/net/address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace cairn::net {

uint16_t Endpoint::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
}

socklen_t Endpoint::len() const {
  return family() == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

bool Endpoint::loopback() const {
  return is_loopback(sa());
}

std::string Endpoint::to_string() const {
  std::string a = address_text(sa());
  if (family() == AF_INET6) return "[" + a + "]:" + std::to_string(port());
  return a + ":" + std::to_string(port());
}

bool Endpoint::operator==(const Endpoint& o) const {
  return same_address(sa(), o.sa());
}

namespace {
bool parse_port(std::string_view s, uint16_t& port) {
  unsigned v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v == 0 || v > 65535) return false;
  port = static_cast<uint16_t>(v);
  return true;
}
}  // namespace

std::optional<Endpoint> parse_endpoint(std::string_view text, uint16_t default_port) {
  std::string host;
  uint16_t port = default_port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' && rest.front() != '#') return std::nullopt;
      if (!parse_port(rest.substr(1), port)) return std::nullopt;
    }
  } else {
    auto hash = text.find('#');
    auto colon = text.find(':');
    if (hash != std::string_view::npos) {
      host = std::string(text.substr(0, hash));
      if (!parse_port(text.substr(hash + 1), port)) return std::nullopt;
    } else if (colon != std::string_view::npos &&
               text.find(':', colon + 1) == std::string_view::npos) {
      host = std::string(text.substr(0, colon));  // exactly one colon: IPv4 with a port
      if (!parse_port(text.substr(colon + 1), port)) return std::nullopt;
    } else {
      host = std::string(text);  // IPv4 or bare IPv6
    }
  }
  return endpoint_of(host, port);
}

std::optional<Endpoint> endpoint_of(std::string_view host, uint16_t port) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || host.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char text[INET6_ADDRSTRLEN];
  std::memcpy(text, host.data(), host.size());
  text[host.size()] = '\0';
  Endpoint e;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&e.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&e.addr);
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return e;
  }
  e.addr = {};
  if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return e;
  }
  return std::nullopt;
}

namespace {
// The IPv4-mapped prefix (::ffff:0:0/96).
constexpr uint8_t kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void fold_v4_mapped(IpAddr& ip) {
  if (ip.len == 16 && std::memcmp(ip.bytes.data(), kV4Mapped, 12) == 0) {
    std::memmove(ip.bytes.data(), ip.bytes.data() + 12, 4);
    std::memset(ip.bytes.data() + 4, 0, 12);
    ip.len = 4;
  }
}
}  // namespace

IpAddr parse_ip(std::string_view text) {
  IpAddr ip;
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return ip;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (inet_pton(AF_INET, buf, ip.bytes.data()) == 1) {
    ip.len = 4;
  } else if (inet_pton(AF_INET6, buf, ip.bytes.data()) == 1) {
    ip.len = 16;
    fold_v4_mapped(ip);
  }
  return ip;
}

IpAddr ip_of(const sockaddr* sa) {
  IpAddr ip;
  if (sa->sa_family == AF_INET) {
    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
    ip.len = 4;
  } else if (sa->sa_family == AF_INET6) {
    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
    ip.len = 16;
    fold_v4_mapped(ip);
  }
  return ip;
}

bool is_loopback(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    auto a = ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr);
    return (a >> 24) == 127;
  }
  if (sa->sa_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
    return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127;
  }
  return false;
}

std::string address_text(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  return buf;
}

bool same_address(const sockaddr* a, const sockaddr* b) {
  if (a->sa_family != b->sa_family) return false;
  if (a->sa_family == AF_INET) {
    auto* x = reinterpret_cast<const sockaddr_in*>(a);
    auto* y = reinterpret_cast<const sockaddr_in*>(b);
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->sa_family == AF_INET6) {
    auto* x = reinterpret_cast<const sockaddr_in6*>(a);
    auto* y = reinterpret_cast<const sockaddr_in6*>(b);
    return x->sin6_port == y->sin6_port &&
           std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  return false;
}

bool Cidr::contains(const sockaddr* sa) const {
  const uint8_t* a = nullptr;
  uint8_t mapped[4];
  if (sa->sa_family == AF_INET && family == AF_INET) {
    a = reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr);
  } else if (sa->sa_family == AF_INET6 && family == AF_INET6) {
    a = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr.s6_addr;
  } else if (sa->sa_family == AF_INET6 && family == AF_INET) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr;
    if (!IN6_IS_ADDR_V4MAPPED(&v6)) return false;
    std::memcpy(mapped, v6.s6_addr + 12, 4);
    a = mapped;
  } else {
    return false;
  }
  int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a, bytes, static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (bytes[full] & mask);
}

std::string Cidr::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes, buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(prefix);
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  Cidr c;
  auto slash = text.find('/');
  std::string host(text.substr(0, slash));
  if (inet_pton(AF_INET, host.c_str(), c.bytes) == 1) {
    c.family = AF_INET;
  } else if (inet_pton(AF_INET6, host.c_str(), c.bytes) == 1) {
    c.family = AF_INET6;
  } else {
    return std::nullopt;
  }
  int max = c.family == AF_INET ? 32 : 128;
  c.prefix = max;
  if (slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    auto r = std::from_chars(p.data(), p.data() + p.size(), c.prefix);
    if (r.ec != std::errc() || r.ptr != p.data() + p.size() || c.prefix < 0 || c.prefix > max)
      return std::nullopt;
  }
  // Clear host bits so equal networks compare equal and reverse zones are exact.
  for (int i = 0; i < 16; ++i) {
    int bit = i * 8;
    if (bit >= c.prefix)
      c.bytes[i] = 0;
    else if (bit + 8 > c.prefix)
      c.bytes[i] &= static_cast<uint8_t>(0xff << (8 - (c.prefix - bit)));
  }
  return c;
}

}  // namespace cairn::net
