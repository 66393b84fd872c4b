// The address other nodes reach this one at: Consul's advertise_addr default.
// An explicit advertise_addr wins; else bind_addr unless it is 0.0.0.0; else
// the host's private IPv4 address (RFC 1918, RFC 6598). Like Consul, no
// private address or several (none on the default route's interface) is an
// error asking for bind_addr or advertise_addr.
#pragma once

#include <string>
#include <vector>

namespace cairn::config {

struct HostAddress {
  std::string interface;
  std::string ipv4;  // dotted quad
};

bool is_private_ipv4(const std::string& ipv4);

// Pure: picks among the host's addresses. default_route_interface may be "".
std::string choose_advertise_address(const std::string& bind_addr,
                                     const std::string& advertise_addr,
                                     const std::vector<HostAddress>& host,
                                     const std::string& default_route_interface,
                                     std::string& error);

// Reads the host's interfaces (getifaddrs) and default route (/proc/net/route).
std::string advertise_address(const std::string& bind_addr, const std::string& advertise_addr,
                              std::string& error);

}  // namespace cairn::config
