// The rules for the ports of the etcd member a server runs as its child
// (ports.etcd_peer, ports.etcd_client), checked once the configuration is
// merged: whether the agent is a server is only known then.
#pragma once

#include <cstdint>
#include <string>

#include "agent/config/config.h"

namespace cairn::config {

struct PortsStatus {
  enum class Code : uint8_t {
    ok,
    out_of_range,        // not a port (etcd_peer 1..65535 or -1, etcd_client 0..65535)
    etcd_peer_disabled,  // etcd_peer -1 on a server: its peers could not reach it
    clash,               // an etcd port equals another of the agent's ports
  };
  Code code = Code::ok;
  std::string message;  // "ports.etcd_peer: ...", for the operator

  bool ok() const { return code == Code::ok; }
};

// The etcd ports' rules. On a server (not -dev, which runs no etcd) the peer
// port must be set and differ from every other port the agent binds: http,
// dns, serf_lan, serf_wan, server and a TCP etcd_client; a TCP etcd_client
// likewise. Addresses are not compared: the peer port binds bind_addr, often
// 0.0.0.0, which clashes with the same port on any local address.
PortsStatus validate_etcd_ports(const Config& cfg);

}  // namespace cairn::config
