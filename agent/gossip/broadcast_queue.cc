#include "agent/gossip/broadcast_queue.h"

#include <limits>

#include "agent/gossip/formulas.h"

namespace cairn::gossip {

void BroadcastQueue::finish(Set::iterator it) {
  Notify done = std::move(const_cast<Item&>(*it).finished);
  if (it->name != kUnnamed) by_name_.erase(it->name);
  items_.erase(it);
  if (done) done();
}

void BroadcastQueue::queue(uint32_t name, std::string msg, Notify finished) {
  if (name != kUnnamed) {
    if (auto it = by_name_.find(name); it != by_name_.end()) finish(items_.find(key(*it->second)));
  }
  // Ids only grow (memberlist restarts them when the queue empties, which
  // can collide with items that get() holds out of the set for reinsertion).
  Item item{0, ++next_id_, name, std::move(msg), std::move(finished)};
  auto [pos, ok] = items_.insert(std::move(item));
  if (name != kUnnamed) by_name_[name] = &*pos;
}

size_t BroadcastQueue::get(size_t overhead, size_t limit, int num_nodes,
                           std::vector<std::string>& out, size_t first) {
  if (items_.empty()) return 0;
  const int transmit_limit = retransmit_limit(mult_, num_nodes);
  size_t used = 0, count = 0;
  int t = items_.begin()->transmits;
  const int max_t = items_.rbegin()->transmits;
  reinsert_.clear();
  // Probe items for lower_bound: a message of exactly `free` bytes with the
  // largest id sorts before every fitting item of the same transmit count.
  while (t <= max_t) {
    if (used + overhead >= limit) break;
    const size_t free = limit - used - overhead;
    auto it = items_.lower_bound(Key{t, free, std::numeric_limits<int64_t>::max()});
    if (it == items_.end() || it->transmits != t) {
      ++t;
      continue;
    }
    used += overhead + it->msg.size();
    if (first + count < out.size()) {
      out[first + count].assign(it->msg);
    } else {
      out.push_back(it->msg);
    }
    ++count;
    if (it->transmits + 1 >= transmit_limit) {
      finish(it);
    } else {
      auto node = items_.extract(it);
      ++node.value().transmits;
      reinsert_.push_back(std::move(node));
    }
  }
  for (auto& node : reinsert_) items_.insert(std::move(node));
  reinsert_.clear();
  return count;
}

void BroadcastQueue::reset() {
  while (!items_.empty()) finish(items_.begin());
}

void BroadcastQueue::prune(size_t max_retain) {
  while (items_.size() > max_retain) finish(std::prev(items_.end()));
}

}  // namespace cairn::gossip
