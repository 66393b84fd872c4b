// Serf's member events as Consul's consul.serf.member.* counters count them.
#include "agent/serf_event_counts.h"

#include <doctest/doctest.h>

using namespace cairn;
using K = gossip::SerfEvent::Kind;

namespace {

gossip::SerfEvent member_event(K kind, const char* name) {
  gossip::SerfEvent ev;
  ev.kind = kind;
  ev.member.name = name;
  return ev;
}

}  // namespace

TEST_CASE("each kind of event has its counter") {
  SerfEventCounter c;
  c.count(member_event(K::member_join, "a"), 0);
  c.count(member_event(K::member_join, "b"), 0);
  c.count(member_event(K::member_update, "a"), 0);
  c.count(member_event(K::member_leave, "b"), 0);
  c.count(member_event(K::member_reap, "b"), 0);
  c.count(member_event(K::user, ""), 0);
  c.count(member_event(K::query, ""), 0);
  const SerfEventCounts& n = c.counts();
  CHECK(n.join == 2);
  CHECK(n.update == 1);
  CHECK(n.left == 1);
  CHECK(n.reap == 1);
  CHECK(n.user_events == 1);
  CHECK(n.queries == 1);
  CHECK(n.failed == 0);
  CHECK(n.flap == 0);
}

TEST_CASE(
    "a member back within the flap timeout of failing flapped; later, or after leaving, not") {
  SerfEventCounter c;
  c.count(member_event(K::member_failed, "a"), 1'000);
  c.count(member_event(K::member_join, "a"), 1'000 + kSerfFlapTimeoutMs - 1);
  CHECK(c.counts().flap == 1);
  // Counted once: the failure is forgotten when the member is back.
  c.count(member_event(K::member_join, "a"), 1'000 + kSerfFlapTimeoutMs);
  CHECK(c.counts().flap == 1);

  c.count(member_event(K::member_failed, "b"), 0);
  c.count(member_event(K::member_join, "b"), kSerfFlapTimeoutMs);
  CHECK(c.counts().flap == 1);

  c.count(member_event(K::member_failed, "c"), 0);
  c.count(member_event(K::member_reap, "c"), 10);
  c.count(member_event(K::member_join, "c"), 20);
  CHECK(c.counts().flap == 1);
  CHECK(c.counts().failed == 3);
}
