// An in-memory network for the gossip simulator: datagrams with loss, base
// latency and random extra delay; streams that fail across partitions or to
// nodes that are down. Per-address byte counters give bandwidth per node.
#pragma once

#include <memory>
#include <unordered_map>

#include "agent/gossip/rng.h"
#include "agent/gossip/sim/sim_world.h"
#include "agent/gossip/transport.h"

namespace cairn::gossip::sim {

struct SimNetConfig {
  double loss = 0.0;              // probability a datagram is dropped
  Duration latency = 200us;       // one-way base delay
  Duration jitter = 300us;        // plus uniform [0, jitter)
  Duration connect_timeout = 1s;  // what a stream into a partition costs
};

struct SimTraffic {
  uint64_t bytes_out = 0, bytes_in = 0, packets_out = 0, packets_in = 0;
};

class SimNetwork {
 public:
  SimNetwork(SimWorld& world, SimNetConfig cfg, uint64_t seed)
      : world_(world), cfg_(cfg), rng_(seed) {}

  // A node's endpoint; null handler = down (datagrams vanish, streams are refused).
  void attach(const Address& a, PacketHandler* h) { endpoints_[a].handler = h; }
  void detach(const Address& a) { endpoints_[a].handler = nullptr; }
  // Nodes in different groups cannot reach each other; group 0 by default.
  void set_group(const Address& a, int group) { endpoints_[a].group = group; }
  void heal() {
    for (auto& [a, e] : endpoints_) e.group = 0;
  }
  void set_loss(double loss) { cfg_.loss = loss; }
  const SimTraffic& traffic(const Address& a) { return endpoints_[a].traffic; }

  std::unique_ptr<Transport> transport_for(const Address& self);

 private:
  friend class SimTransport;
  struct Endpoint {
    PacketHandler* handler = nullptr;
    int group = 0;
    SimTraffic traffic;
  };
  Endpoint* reachable(const Address& from, const Address& to);
  Duration delay() {
    return cfg_.latency + Duration(cfg_.jitter.count() > 0 ? rng_.below(cfg_.jitter.count()) : 0);
  }

  SimWorld& world_;
  SimNetConfig cfg_;
  Rng rng_;
  std::unordered_map<Address, Endpoint, AddressHash> endpoints_;
};

}  // namespace cairn::gossip::sim
