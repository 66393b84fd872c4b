#include "agent/forward/server_list.h"

#include <algorithm>
#include <cmath>

namespace cairn::forward {

namespace {

// Unknown RTTs sort after every known one.
int64_t rtt_bucket(const ServerEntry& s) {
  if (s.rtt_ms < 0) return INT64_MAX;
  return static_cast<int64_t>(std::floor(s.rtt_ms / ServerList::kRttBucketMs));
}

}  // namespace

void ServerList::update(std::vector<ServerEntry> servers) {
  std::vector<ServerEntry> next;
  next.reserve(servers.size());
  for (const auto& kept : servers_) {
    auto it = std::find_if(servers.begin(), servers.end(),
                           [&](const ServerEntry& s) { return s.name == kept.name; });
    if (it == servers.end()) continue;
    next.push_back(std::move(*it));
    servers.erase(it);
  }
  for (auto& added : servers) {
    std::uniform_int_distribution<size_t> at(0, next.size());
    next.insert(next.begin() + static_cast<std::ptrdiff_t>(at(rng_)), std::move(added));
  }
  servers_ = std::move(next);
  order_by_distance();
}

void ServerList::failed(const std::string& name) {
  auto it = std::find_if(servers_.begin(), servers_.end(),
                         [&](const ServerEntry& s) { return s.name == name; });
  if (it == servers_.end()) return;
  ServerEntry moved = std::move(*it);
  servers_.erase(it);
  servers_.push_back(std::move(moved));
}

void ServerList::rebalance() {
  std::shuffle(servers_.begin(), servers_.end(), rng_);
  order_by_distance();
}

void ServerList::order_by_distance() {
  std::stable_sort(
      servers_.begin(), servers_.end(),
      [](const ServerEntry& a, const ServerEntry& b) { return rtt_bucket(a) < rtt_bucket(b); });
}

uint64_t ServerList::rebalance_interval_ms(size_t servers, size_t lan_members, double jitter) {
  constexpr double kConnsPerSecPerServer = 64.0;
  constexpr uint64_t kMinMs = 120'000;
  double seconds = servers == 0 ? 0.0
                                : static_cast<double>(lan_members) /
                                      (static_cast<double>(servers) * kConnsPerSecPerServer);
  auto base = std::max(kMinMs, static_cast<uint64_t>(seconds * 1000.0));
  jitter = std::clamp(jitter, 0.0, 1.0);
  return base + static_cast<uint64_t>(static_cast<double>(base) * jitter);
}

}  // namespace cairn::forward
