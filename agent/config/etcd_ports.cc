#include "agent/config/etcd_ports.h"

#include <array>
#include <string_view>

namespace cairn::config {

namespace {

struct NamedPort {
  std::string_view key;
  int port;
};

PortsStatus fail(PortsStatus::Code code, std::string message) {
  return {code, std::move(message)};
}

// The first of the agent's other ports (those it binds) equal to port, or nullptr.
const NamedPort* same_port(const std::array<NamedPort, 6>& others, std::string_view self,
                           int port) {
  for (const auto& o : others)
    if (o.key != self && o.port > 0 && o.port == port) return &o;
  return nullptr;
}

// "ports.etcd_peer: 8500 is also ports.http; etcd's peer port must ...": both keys named.
PortsStatus clash(std::string_view key, int port, const NamedPort& other, std::string_view what) {
  return fail(PortsStatus::Code::clash, std::string(key) + ": " + std::to_string(port) +
                                            " is also " + std::string(other.key) + "; " +
                                            std::string(what) +
                                            " must differ from the agent's other ports");
}

}  // namespace

PortsStatus validate_etcd_ports(const Config& cfg) {
  const Ports& p = cfg.ports;
  if (p.etcd_peer == 0 || p.etcd_peer < -1 || p.etcd_peer > 65535)
    return fail(PortsStatus::Code::out_of_range,
                "ports.etcd_peer: " + std::to_string(p.etcd_peer) +
                    " must be a port 1..65535 (-1: no etcd, on clients only)");
  if (p.etcd_client < 0 || p.etcd_client > 65535)
    return fail(PortsStatus::Code::out_of_range,
                "ports.etcd_client: " + std::to_string(p.etcd_client) +
                    " must be 0 (a unix socket in the data dir) or a port 1..65535");
  // Clients and -dev run no etcd: their etcd ports bind nothing.
  if (!cfg.server || cfg.dev) return {};
  if (p.etcd_peer == -1)
    return fail(PortsStatus::Code::etcd_peer_disabled,
                "ports.etcd_peer: -1 is not allowed on a server: every server runs an etcd "
                "member, and the other servers' members reach it on this port (default 8380)");
  const std::array<NamedPort, 6> others = {{{"ports.http", p.http},
                                            {"ports.dns", p.dns},
                                            {"ports.serf_lan", p.serf_lan},
                                            {"ports.serf_wan", p.serf_wan},
                                            {"ports.server", p.server},
                                            {"ports.etcd_client", p.etcd_client}}};
  if (const NamedPort* o = same_port(others, "ports.etcd_peer", p.etcd_peer))
    return clash("ports.etcd_peer", p.etcd_peer, *o, "etcd's peer port");
  if (p.etcd_client > 0) {
    if (const NamedPort* o = same_port(others, "ports.etcd_client", p.etcd_client))
      return clash("ports.etcd_client", p.etcd_client, *o, "etcd's client port");
  }
  return {};
}

}  // namespace cairn::config
