#include "agent/config/advertise.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <fstream>
#include <sstream>

namespace cairn::config {

bool is_private_ipv4(const std::string& ipv4) {
  in_addr a{};
  if (inet_pton(AF_INET, ipv4.c_str(), &a) != 1) return false;
  uint32_t ip = ntohl(a.s_addr);
  auto in = [ip](uint32_t net, int bits) { return (ip >> (32 - bits)) == (net >> (32 - bits)); };
  return in(0x0A000000, 8) ||   // 10.0.0.0/8
         in(0xAC100000, 12) ||  // 172.16.0.0/12
         in(0xC0A80000, 16) ||  // 192.168.0.0/16
         in(0x64400000, 10);    // 100.64.0.0/10 (RFC 6598, carrier-grade NAT)
}

std::string choose_advertise_address(const std::string& bind_addr,
                                     const std::string& advertise_addr,
                                     const std::vector<HostAddress>& host,
                                     const std::string& default_route_interface,
                                     std::string& error) {
  if (!advertise_addr.empty()) return advertise_addr;
  if (!bind_addr.empty() && bind_addr != "0.0.0.0") return bind_addr;
  std::vector<const HostAddress*> private_addrs;
  for (const auto& h : host)
    if (is_private_ipv4(h.ipv4)) private_addrs.push_back(&h);
  if (private_addrs.size() == 1) return private_addrs[0]->ipv4;
  if (private_addrs.empty()) {
    error = "No private IPv4 address found: set bind_addr or advertise_addr";
    return "";
  }
  // Several (a container bridge beside the LAN, say): the default route's
  // interface decides, as go-sockaddr's GetPrivateInterfaces does for Consul.
  const HostAddress* routed = nullptr;
  int on_default = 0;
  for (const HostAddress* h : private_addrs)
    if (!default_route_interface.empty() && h->interface == default_route_interface) {
      routed = h;
      ++on_default;
    }
  if (on_default == 1) return routed->ipv4;
  error =
      "Multiple private IPv4 addresses found. Please configure one with 'bind' and/or "
      "'advertise'.";
  return "";
}

namespace {

std::vector<HostAddress> host_addresses() {
  std::vector<HostAddress> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
    char buf[INET_ADDRSTRLEN];
    const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) out.push_back({i->ifa_name, buf});
  }
  freeifaddrs(list);
  return out;
}

// /proc/net/route: "Iface Destination Gateway ..." with destination 00000000
// for the default route.
std::string default_route_interface() {
  std::ifstream f("/proc/net/route");
  std::string line;
  std::getline(f, line);  // header
  while (std::getline(f, line)) {
    std::istringstream fields(line);
    std::string iface, dest;
    if (fields >> iface >> dest && dest == "00000000") return iface;
  }
  return "";
}

}  // namespace

std::string advertise_address(const std::string& bind_addr, const std::string& advertise_addr,
                              std::string& error) {
  if (!advertise_addr.empty() || (!bind_addr.empty() && bind_addr != "0.0.0.0"))
    return choose_advertise_address(bind_addr, advertise_addr, {}, "", error);
  return choose_advertise_address(bind_addr, advertise_addr, host_addresses(),
                                  default_route_interface(), error);
}

}  // namespace cairn::config
