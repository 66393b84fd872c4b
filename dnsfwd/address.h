// Socket addresses and CIDR blocks as they appear in dnsfwd.yaml and in
// resolv.conf-style files: "10.0.0.2", "10.0.0.2:5353", "10.0.0.2#5353"
// (dnsmasq's form), "[::1]:53", "fd00::1", "10.0.0.0/8".
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::dnsfwd {

struct Endpoint {
  sockaddr_storage addr{};

  int family() const { return addr.ss_family; }
  uint16_t port() const;
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&addr); }
  socklen_t len() const;
  bool loopback() const;
  // "127.0.0.1:8600", "[::1]:53"
  std::string to_string() const;
  bool operator==(const Endpoint& o) const;
};

// Parses an address with an optional port (default_port when absent).
std::optional<Endpoint> parse_endpoint(std::string_view text, uint16_t default_port);

// True for 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8.
bool is_loopback(const sockaddr* sa);
// Address part only ("192.0.2.1", "::1").
std::string address_text(const sockaddr* sa);
bool same_address(const sockaddr* a, const sockaddr* b);  // address and port

struct Cidr {
  int family = AF_INET;
  uint8_t bytes[16] = {};
  int prefix = 0;

  bool contains(const sockaddr* sa) const;
  std::string to_string() const;
};

std::optional<Cidr> parse_cidr(std::string_view text);

}  // namespace cairn::dnsfwd
