// A fleet of memberlist nodes on one SimWorld and SimNetwork: the same core
// code as the agent, with virtual time and an in-memory network. Used by the
// unit tests (tens of nodes) and the scale benchmark (thousands).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/gossip/memberlist.h"
#include "agent/gossip/sim/sim_network.h"
#include "agent/gossip/sim/sim_world.h"

namespace cairn::gossip::sim {

enum class EventKind { join, leave, update, probe_failed };

class SimFleet {
 public:
  // observer, kind, subject node index (or -1 for unknown names), subject state
  using Observer = std::function<void(size_t observer, EventKind kind, int subject, NodeStatus st)>;

  SimFleet(size_t n, MemberlistConfig base, SimNetConfig net, uint64_t seed);
  ~SimFleet();
  SimFleet(const SimFleet&) = delete;
  SimFleet& operator=(const SimFleet&) = delete;

  SimWorld& world() { return world_; }
  SimNetwork& net() { return net_; }
  size_t size() const { return nodes_.size(); }
  Address address(size_t i) const;
  std::string name(size_t i) const;
  Memberlist* node(size_t i);
  bool up(size_t i) const;
  void set_observer(Observer o) { observer_ = std::move(o); }
  Interner& names() { return *names_; }

  // Starts node i (fresh incarnation) and joins it to `seeds` (may be empty).
  void start(size_t i, const std::vector<size_t>& seeds);
  // Crash: the node vanishes without a word.
  void kill(size_t i);
  // Graceful leave, then gone after `linger`.
  void leave(size_t i, Duration linger);
  // Pre-fills every running node's member list with every other running
  // node as alive, as if the fleet had converged long ago (the scale
  // benchmark's starting point; a 10,000-node join storm is a different
  // experiment).
  void seed_converged();
  // Interned name id of node i (shared by every node of the fleet).
  uint32_t name_id(size_t i) const { return name_ids_[i]; }
  void run_for(Duration d) { world_.run_until(world_.now() + d); }

 private:
  struct Node;
  SimWorld world_;
  SimNetwork net_;
  MemberlistConfig base_;
  uint64_t seed_;
  std::shared_ptr<Interner> names_ = std::make_shared<Interner>();
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<int> index_of_name_;  // interned name id -> node index
  std::vector<uint32_t> name_ids_;
  Observer observer_;
  friend struct FleetDelegate;
  int subject_index(std::string_view name) const;
};

}  // namespace cairn::gossip::sim
