#include "agent/gossip/sim/sim_fleet.h"

#include <cstdio>

namespace cairn::gossip::sim {

struct FleetDelegate : MemberlistDelegate {
  SimFleet* fleet;
  size_t self;
  FleetDelegate(SimFleet* f, size_t i) : fleet(f), self(i) {}
  void emit(EventKind k, const NodeInfo& n) {
    if (fleet->observer_) fleet->observer_(self, k, fleet->subject_index(n.name), n.status);
  }
  void notify_join(const NodeInfo& n) override { emit(EventKind::join, n); }
  void notify_leave(const NodeInfo& n) override { emit(EventKind::leave, n); }
  void notify_update(const NodeInfo& n) override { emit(EventKind::update, n); }
  void notify_probe_failed(std::string_view node) override {
    if (fleet->observer_)
      fleet->observer_(self, EventKind::probe_failed, fleet->subject_index(node),
                       NodeStatus::suspect);
  }
};

struct SimFleet::Node {
  std::unique_ptr<SimClock> clock;
  std::unique_ptr<Transport> transport;
  std::unique_ptr<FleetDelegate> delegate;
  std::unique_ptr<Memberlist> ml;
  int incarnation_hint = 0;
};

SimFleet::SimFleet(size_t n, MemberlistConfig base, SimNetConfig net, uint64_t seed)
    : net_(world_, net, seed ^ 0x5eed), base_(std::move(base)), seed_(seed) {
  nodes_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t id = names_->intern(name(i));
    name_ids_.push_back(id);
    if (index_of_name_.size() <= id) index_of_name_.resize(id + 1, -1);
    index_of_name_[id] = static_cast<int>(i);
  }
}

SimFleet::~SimFleet() {
  for (auto& n : nodes_)
    if (n) {
      n->ml.reset();
      n->transport.reset();
      n->clock.reset();
    }
}

Memberlist* SimFleet::node(size_t i) {
  return nodes_[i] ? nodes_[i]->ml.get() : nullptr;
}
bool SimFleet::up(size_t i) const {
  return nodes_[i] && nodes_[i]->ml;
}

Address SimFleet::address(size_t i) const {
  // 10.x.y.z, one address per node, the same port everywhere.
  return Address{0x0a000000u + uint32_t(i) + 1, 8301};
}

std::string SimFleet::name(size_t i) const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "n%05zu", i);
  return buf;
}

int SimFleet::subject_index(std::string_view name) const {
  const auto id = names_->find(name);
  return id < index_of_name_.size() ? index_of_name_[id] : -1;
}

void SimFleet::start(size_t i, const std::vector<size_t>& seeds) {
  if (!nodes_[i]) nodes_[i] = std::make_unique<Node>();
  Node& n = *nodes_[i];
  n.ml.reset();
  MemberlistConfig cfg = base_;
  cfg.name = name(i);
  cfg.advertise = address(i);
  cfg.seed = seed_ * 1000003 + i * 7919 + uint64_t(++n.incarnation_hint) * 104729;
  n.clock = std::make_unique<SimClock>(world_);
  n.transport = net_.transport_for(cfg.advertise);
  n.delegate = std::make_unique<FleetDelegate>(this, i);
  n.ml = std::make_unique<Memberlist>(cfg, *n.clock, *n.transport, n.delegate.get(), names_);
  net_.attach(cfg.advertise, n.ml.get());
  n.ml->start();
  if (!seeds.empty()) {
    std::vector<Address> addrs;
    for (size_t s : seeds) addrs.push_back(address(s));
    n.ml->join(addrs, [](int, const std::string&) {});
  }
}

void SimFleet::kill(size_t i) {
  if (!nodes_[i] || !nodes_[i]->ml) return;
  net_.detach(address(i));
  Node& n = *nodes_[i];
  n.ml.reset();
  n.transport.reset();
  n.clock.reset();
}

void SimFleet::leave(size_t i, Duration linger) {
  if (!up(i)) return;
  nodes_[i]->ml->leave(linger, [](bool) {});
  world_.schedule_at(world_.now() + linger, [this, i] { kill(i); });
}

void SimFleet::seed_converged() {
  const Vsn v = base_.vsn();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!up(i)) continue;
    Memberlist& ml = *nodes_[i]->ml;
    for (size_t j = 0; j < nodes_.size(); ++j)
      if (j != i && up(j)) ml.preload(name_ids_[j], address(j), 1, v);
    ml.restagger_push_pull();
  }
}

}  // namespace cairn::gossip::sim
