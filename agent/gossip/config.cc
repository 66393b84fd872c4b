#include "agent/gossip/config.h"

namespace cairn::gossip {

MemberlistConfig MemberlistConfig::lan() {
  return MemberlistConfig{};
}

MemberlistConfig MemberlistConfig::wan() {
  MemberlistConfig c;
  c.tcp_timeout = 30s;
  c.suspicion_mult = 6;
  c.push_pull_interval = 60s;
  c.probe_timeout = 3s;
  c.probe_interval = 5s;
  c.gossip_nodes = 4;
  c.gossip_interval = 500ms;
  c.gossip_to_the_dead_time = 60s;
  return c;
}

MemberlistConfig MemberlistConfig::local() {
  MemberlistConfig c;
  c.tcp_timeout = 1s;
  c.indirect_checks = 1;
  c.retransmit_mult = 2;
  c.suspicion_mult = 3;
  c.push_pull_interval = 15s;
  c.probe_timeout = 200ms;
  c.gossip_interval = 100ms;
  c.gossip_to_the_dead_time = 15s;
  return c;
}

bool MemberlistConfig::profile(std::string_view name, MemberlistConfig& out) {
  if (name == "lan") {
    out = lan();
  } else if (name == "wan") {
    out = wan();
  } else if (name == "local") {
    out = local();
  } else {
    return false;
  }
  return true;
}

}  // namespace cairn::gossip
