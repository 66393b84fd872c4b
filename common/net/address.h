// IP addresses, socket addresses and CIDR blocks, and the one parser of IP
// literals for both daemons: listener addresses (client_addr, dnsfwd.yaml),
// recursors and upstreams ("10.0.0.2", "10.0.0.2:5353", "10.0.0.2#5353" in
// dnsmasq's form, "[::1]:53", "fd00::1"), catalog addresses and "10.0.0.0/8".
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::net {

// An IPv4 or IPv6 address in network order; len 0 = not an IP. 17 bytes,
// no sockaddr: the agent keeps one per catalog address it serves over DNS.
struct IpAddr {
  std::array<uint8_t, 16> bytes{};
  uint8_t len = 0;
  bool operator==(const IpAddr& o) const { return len == o.len && bytes == o.bytes; }
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes.data()), len}; }
};
// Parses "10.0.0.1", "::1", "::ffff:10.0.0.1" (an IPv4 address, as Go's To4 sees it).
IpAddr parse_ip(std::string_view text);
// The address of a socket address, IPv4-mapped IPv6 folded to IPv4.
IpAddr ip_of(const sockaddr* sa);

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
// An IP literal ("127.0.0.1", "::1", "[::1]") with a port given apart (0 = any).
std::optional<Endpoint> endpoint_of(std::string_view host, uint16_t port);

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

}  // namespace cairn::net
