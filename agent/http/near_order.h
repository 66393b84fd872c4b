// ?near=<node>: results ordered by the estimated round trip from that node,
// as Consul's sortNodesByDistanceFrom does it: a stable sort by Vivaldi
// distance, nodes without a coordinate last, and no sort at all when the
// source node has no coordinate ("_agent" names this agent's node).
#pragma once

#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/gossip/coordinate.h"

namespace cairn {
class Agent;
}

namespace cairn::http_api {

class NearOrder {
 public:
  NearOrder(const Agent& agent, const std::string& near);

  bool active() const { return active_; }
  // The estimated RTT from the source to node; Duration::max() without a coordinate.
  gossip::Duration distance_to(const std::string& node) const;

  // Stable-sorts items by the distance of node_of(item) from the source.
  // Items of one node (its checks, say) share one coordinate lookup.
  template <class T, class NodeOf>
  void sort(std::vector<T>& items, NodeOf node_of) const {
    if (!active_ || items.size() < 2) return;
    std::unordered_map<std::string, gossip::Duration> by_node;
    std::vector<std::pair<gossip::Duration, T>> keyed;
    keyed.reserve(items.size());
    for (auto& item : items) {
      const std::string& node = node_of(item);
      auto it = by_node.find(node);
      if (it == by_node.end()) it = by_node.emplace(node, distance_to(node)).first;
      keyed.emplace_back(it->second, std::move(item));
    }
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 0; i < items.size(); ++i) items[i] = std::move(keyed[i].second);
  }

 private:
  const Agent& agent_;
  gossip::Coordinate source_;
  bool active_ = false;
};

}  // namespace cairn::http_api
