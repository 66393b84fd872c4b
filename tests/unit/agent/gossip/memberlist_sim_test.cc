// The SWIM core in simulated fleets: join, failure detection, leave,
// refutation, partitions, loss; against memberlist's formulas.
#include <doctest/doctest.h>

#include <map>

#include "agent/gossip/formulas.h"
#include "agent/gossip/sim/sim_fleet.h"

using namespace cairn::gossip;
using namespace cairn::gossip::sim;

namespace {

struct Recorder {
  // (observer, subject) -> last event kind and time
  std::map<std::pair<size_t, int>, std::pair<EventKind, Time>> last;
  std::map<std::pair<size_t, int>, NodeStatus> status;
  int leaves_of(int subject) const {
    int n = 0;
    for (auto& [k, v] : last)
      if (k.second == subject && v.first == EventKind::leave) ++n;
    return n;
  }
  int joins_seen(size_t n) const {
    int c = 0;
    for (auto& [k, v] : last)
      if (int(k.first) != k.second && v.first == EventKind::join && size_t(k.second) < n) ++c;
    return c;
  }
};

void attach(SimFleet& f, Recorder& r) {
  f.set_observer([&f, &r](size_t obs, EventKind k, int subj, NodeStatus st) {
    if (k == EventKind::probe_failed || k == EventKind::update) return;
    r.last[{obs, subj}] = {k, f.world().now()};
    r.status[{obs, subj}] = st;
  });
}

std::unique_ptr<SimFleet> make_converged(size_t n, MemberlistConfig cfg, Recorder& rec,
                                         uint64_t seed = 1, SimNetConfig net = {}) {
  auto f = std::make_unique<SimFleet>(n, cfg, net, seed);
  attach(*f, rec);
  f->start(0, {});
  for (size_t i = 1; i < n; ++i) f->start(i, {0});
  return f;
}

}  // namespace

TEST_CASE("formulas match memberlist's tables") {
  CHECK(suspicion_timeout(4, 10, 1s) == 4s);
  CHECK(suspicion_timeout(4, 50, 1s) == 6792ms);
  CHECK(suspicion_timeout(3, 50, 1s) == 5094ms);
  CHECK(suspicion_timeout(6, 1000, 5s) == 90s);
  CHECK(retransmit_limit(4, 9) == 4);
  CHECK(retransmit_limit(4, 10) == 8);
  CHECK(retransmit_limit(2, 100) == 6);
  CHECK(push_pull_scale(30s, 32) == 30s);
  CHECK(push_pull_scale(30s, 33) == 60s);
  CHECK(push_pull_scale(30s, 65) == 90s);
  // LAN, k = 2: 0 confirmations -> 24 s, 1 -> 11.38 s, 2 -> 4 s.
  CHECK(remaining_suspicion_time(1, 2, 0s, 4s, 24s) == 11381ms);  // 24 - ln2/ln3 x 20
  CHECK(remaining_suspicion_time(2, 2, 0s, 4s, 24s) == 4s);
  CHECK(remaining_suspicion_time(2, 2, 5s, 4s, 24s) == -1s);
}

TEST_CASE("20 nodes converge, detect a crash within theory, and see a leave") {
  Recorder rec;
  const size_t n = 20;
  auto fp = make_converged(n, MemberlistConfig::lan(), rec);
  SimFleet& f = *fp;
  f.run_for(5s);
  CHECK(rec.joins_seen(n) == int(n * (n - 1)));
  for (size_t i = 0; i < n; ++i) CHECK(f.node(i)->num_members() == int(n));

  f.run_for(30s);  // past the first probe cycle
  const Time kill_at = f.world().now();
  f.kill(7);
  f.run_for(40s);
  CHECK(rec.leaves_of(7) == int(n - 1));
  // Detection = first probe + interval + suspicion min (4 s at n = 20 -> 5.2 s)
  // plus dissemination: all within 1 + 19 + ... comfortably under 15 s.
  Time worst{};
  for (size_t i = 0; i < n; ++i) {
    if (i == 7) continue;
    auto e = rec.last[{i, 7}];
    CHECK(e.first == EventKind::leave);
    CHECK(rec.status[{i, 7}] == NodeStatus::dead);
    worst = std::max(worst, e.second - kill_at);
  }
  CHECK(worst < 15s);
  CHECK(worst > 4s);  // never faster than the suspicion minimum
  // No one else was declared dead.
  for (size_t s = 0; s < n; ++s)
    if (s != 7) CHECK(rec.leaves_of(int(s)) == 0);

  f.leave(3, 2s);
  f.run_for(5s);
  for (size_t i = 0; i < n; ++i) {
    if (i == 3 || i == 7) continue;
    CHECK(rec.status[{i, 3}] == NodeStatus::left);
  }
}

TEST_CASE("a restarted node rejoins with a higher incarnation and refutes its death") {
  Recorder rec;
  const size_t n = 12;
  auto fp = make_converged(n, MemberlistConfig::local(), rec, 7);
  SimFleet& f = *fp;
  f.run_for(20s);
  f.kill(5);
  f.run_for(20s);
  CHECK(rec.leaves_of(5) == int(n - 1));
  f.start(5, {0});
  f.run_for(5s);
  for (size_t i = 0; i < n; ++i) {
    if (i == 5) continue;
    CHECK(rec.status[{i, 5}] == NodeStatus::alive);
    NodeInfo ni;
    REQUIRE(f.node(i)->find(f.name(5), ni));
    CHECK(ni.status == NodeStatus::alive);
    CHECK(ni.incarnation > 1);  // refuted the dead message it learned on join
  }
}

TEST_CASE("suspicion about a live node is refuted; no false positives under 5% loss") {
  Recorder rec;
  const size_t n = 30;
  SimNetConfig net;
  net.loss = 0.05;
  auto fp = make_converged(n, MemberlistConfig::lan(), rec, 11, net);
  SimFleet& f = *fp;
  f.run_for(120s);
  int refutes = 0;
  for (size_t i = 0; i < n; ++i) refutes += int(f.node(i)->stats().refutes);
  for (size_t s = 0; s < n; ++s) CHECK(rec.leaves_of(int(s)) == 0);
  for (size_t i = 0; i < n; ++i) CHECK(f.node(i)->num_members() == int(n));
  MESSAGE("refutations under 5% loss: " << refutes);

  // Accuse node 4 directly: it must refute with a higher incarnation.
  const uint32_t before = f.node(4)->incarnation();
  std::string sus;
  encode(SuspectMsg{f.node(4)->incarnation(), f.name(4), f.name(9)}, sus);
  f.node(4)->on_packet(f.address(9), as_bytes(sus), f.world().now());
  CHECK(f.node(4)->incarnation() > before);
  CHECK(f.node(4)->health_score() >= 1);
}

// memberlist alone never contacts members it declared dead once its
// broadcasts are spent; Serf's reconnect (a push/pull join to a failed
// member) is what merges the two sides again. Emulated here with join().
TEST_CASE("a healed partition merges after one push/pull across it") {
  Recorder rec;
  const size_t n = 16;
  MemberlistConfig cfg = MemberlistConfig::local();
  cfg.gossip_to_the_dead_time = 60s;
  auto fp = make_converged(n, cfg, rec, 3);
  SimFleet& f = *fp;
  f.run_for(20s);
  for (size_t i = n / 2; i < n; ++i) f.net().set_group(f.address(i), 1);
  f.run_for(30s);
  // Each side declared the other dead.
  CHECK(f.node(0)->num_members() == int(n / 2));
  f.net().heal();
  f.run_for(5s);
  CHECK(f.node(0)->num_members() == int(n / 2));
  f.node(0)->join({f.address(n - 1)}, [](int, const std::string&) {});
  f.run_for(30s);
  for (size_t i = 0; i < n; ++i) CHECK(f.node(i)->num_members() == int(n));
}
