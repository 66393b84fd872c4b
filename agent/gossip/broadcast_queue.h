// memberlist's TransmitLimitedQueue: broadcasts waiting to be piggybacked on
// outgoing packets, each sent at most RetransmitMult x ceil(log10(n+1))
// times. Least-transmitted first, then largest, then newest, skipping what
// does not fit the space left. A named broadcast (memberlist uses the node
// name) replaces the queued one with the same name: only the newest fact
// about a node is worth spreading. Reference: hashicorp/memberlist queue.go.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace cairn::gossip {

class BroadcastQueue {
 public:
  using Notify = std::function<void()>;
  static constexpr uint32_t kUnnamed = UINT32_MAX;

  explicit BroadcastQueue(int retransmit_mult) : mult_(retransmit_mult) {}

  // Queues msg; `finished` runs when it was sent its last time or was
  // replaced or dropped.
  void queue(uint32_t name, std::string msg, Notify finished = {});

  // Takes broadcasts that fit: each costs its size plus overhead, all
  // together at most limit. Writes them to out[first..] (reusing the strings
  // there) and returns how many.
  size_t get(size_t overhead, size_t limit, int num_nodes, std::vector<std::string>& out,
             size_t first = 0);

  size_t size() const { return items_.size(); }
  // Drops everything (running the notifications).
  void reset();
  // Keeps at most max_retain, dropping the most transmitted first.
  void prune(size_t max_retain);

 private:
  struct Item {
    int transmits;
    int64_t id;
    uint32_t name;
    std::string msg;
    Notify finished;
  };
  struct Key {
    int transmits;
    size_t len;
    int64_t id;
  };
  static Key key(const Item& i) { return {i.transmits, i.msg.size(), i.id}; }
  static Key key(const Key& k) { return k; }
  struct Order {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& x, const B& y) const {
      const Key a = key(x), b = key(y);
      if (a.transmits != b.transmits) return a.transmits < b.transmits;
      if (a.len != b.len) return a.len > b.len;
      return a.id > b.id;
    }
  };
  using Set = std::set<Item, Order>;
  void finish(Set::iterator it);

  int mult_;
  int64_t next_id_ = 0;
  Set items_;
  std::unordered_map<uint32_t, const Item*> by_name_;
  std::vector<Set::node_type> reinsert_;
};

}  // namespace cairn::gossip
