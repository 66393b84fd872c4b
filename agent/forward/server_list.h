// Which server a client agent talks to. After Consul's agent/router
// manager: the client learns its datacenter's servers from LAN gossip (the
// role=consul tags), spreads itself over them by keeping them in a random
// order of its own, talks to the first, moves a server that failed a call to
// the end (the next call goes to another), and reshuffles from time to time
// so that clients that piled onto one server after a failure spread out
// again. Servers in the same RTT bucket count as equally near; a nearer
// bucket comes first. Pure: the caller supplies the randomness and the clock.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace cairn::forward {

struct ServerEntry {
  std::string name;
  std::string address;  // IP of the server's RPC listener (its gossip address)
  int port = 8300;      // the "port" tag
  double rtt_ms = -1;   // estimated from network coordinates; < 0 unknown
  bool operator==(const ServerEntry&) const = default;
};

class ServerList {
 public:
  explicit ServerList(uint64_t seed) : rng_(seed) {}

  // Replaces the known servers: ones still there keep their place, new ones
  // go to a random place, gone ones are dropped; then nearer buckets first.
  void update(std::vector<ServerEntry> servers);
  // The server to call, if any is known.
  const ServerEntry* current() const { return servers_.empty() ? nullptr : &servers_.front(); }
  // A call to name failed: try the others first from now on.
  void failed(const std::string& name);
  // A new random order (still nearest bucket first).
  void rebalance();
  const std::vector<ServerEntry>& servers() const { return servers_; }

  // Consul's rebalance period: enough that all clients of a datacenter
  // reconnect at about 64 connections per second per server, at least
  // 2 minutes, with up to 100% jitter (jitter in [0, 1)).
  static uint64_t rebalance_interval_ms(size_t servers, size_t lan_members, double jitter);

  // Servers whose RTT differs by less than this are equally near.
  static constexpr double kRttBucketMs = 5.0;

 private:
  void order_by_distance();
  std::vector<ServerEntry> servers_;
  std::mt19937_64 rng_;
};

}  // namespace cairn::forward
