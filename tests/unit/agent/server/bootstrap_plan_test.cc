// The bootstrap decision: never two clusters in one datacenter, never one
// across two, and every server of a new datacenter computes the same
// initial cluster.
#include <doctest/doctest.h>

#include "agent/server/bootstrap_plan.h"

using namespace cairn::server;
using Action = BootstrapPlan::Action;

namespace {

LocalServer local(std::string name, int expect) {
  LocalServer s;
  s.name = std::move(name);
  s.datacenter = "dc1";
  s.expect = expect;
  s.peer_url = "http://" + s.name + ":8380";
  return s;
}

SeenServer peer(std::string name, int expect, bool running = false, std::string dc = "dc1") {
  SeenServer s;
  s.name = std::move(name);
  s.datacenter = std::move(dc);
  s.expect = expect;
  s.peer_url = "http://" + s.name + ":8380";
  s.member_running = running;
  return s;
}

}  // namespace

TEST_CASE(
    "a datacenter forms only when bootstrap-expect servers are seen, identically everywhere") {
  auto waiting = plan_bootstrap(local("s2", 3), {peer("s1", 3)});
  CHECK(waiting.action == Action::wait);
  CHECK(waiting.reason.find("waiting for 1 more server") != std::string::npos);
  CHECK(waiting.reason.find("seen s1, s2") != std::string::npos);

  auto from_s2 = plan_bootstrap(local("s2", 3), {peer("s3", 3), peer("s1", 3)});
  auto from_s3 = plan_bootstrap(local("s3", 3), {peer("s1", 3), peer("s2", 3)});
  REQUIRE(from_s2.action == Action::form);
  REQUIRE(from_s3.action == Action::form);
  CHECK(from_s2.initial_cluster == from_s3.initial_cluster);
  REQUIRE(from_s2.initial_cluster.size() == 3);
  CHECK(from_s2.initial_cluster[0].first == "s1");
  CHECK(from_s2.initial_cluster[2].second == "http://s3:8380");
}

TEST_CASE("bootstrap-expect 1 forms at once, alone") {
  auto p = plan_bootstrap(local("s1", 1), {});
  REQUIRE(p.action == Action::form);
  CHECK(p.initial_cluster.size() == 1);
}

TEST_CASE("a server that only ever sees two of three waits and says why") {
  auto p = plan_bootstrap(local("s1", 3), {peer("s2", 3), peer("s3", 3)});
  CHECK(p.action == Action::form);
  SeenServer dead = peer("s3", 3);
  dead.alive = false;
  p = plan_bootstrap(local("s1", 3), {peer("s2", 3), dead});
  CHECK(p.action == Action::wait);
}

TEST_CASE("different bootstrap-expect values are refused, with both numbers") {
  auto p = plan_bootstrap(local("s1", 3), {peer("s2", 5), peer("s3", 3)});
  REQUIRE(p.action == Action::refuse);
  CHECK(p.reason.find("s2 expects 5") != std::string::npos);
  CHECK(p.reason.find("this one 3") != std::string::npos);
}

TEST_CASE("servers of another datacenter are never counted") {
  auto p = plan_bootstrap(local("s1", 3),
                          {peer("s2", 3), peer("t1", 3, false, "dc2"), peer("t2", 3, true, "dc2")});
  CHECK(p.action == Action::wait);
  CHECK(p.reason.find("ignoring servers of other datacenters: t1 (dc2), t2 (dc2)") !=
        std::string::npos);
}

TEST_CASE("a late server joins the running cluster instead of forming one") {
  auto p = plan_bootstrap(local("s4", 3),
                          {peer("s1", 3, true), peer("s2", 3, true), peer("s3", 3, false)});
  REQUIRE(p.action == Action::join);
  CHECK(p.join_via == std::vector<std::string>{"s1", "s2"});
  // Also a server with no bootstrap-expect at all.
  p = plan_bootstrap(local("s5", 0), {peer("s1", 3, true)});
  CHECK(p.action == Action::join);
  p = plan_bootstrap(local("s5", 0), {peer("s1", 3, false)});
  CHECK(p.action == Action::wait);
}

TEST_CASE("more servers than expected: the first by name form, the rest wait to join") {
  std::vector<SeenServer> four = {peer("s1", 3), peer("s2", 3), peer("s3", 3), peer("s4", 3)};
  auto p = plan_bootstrap(local("s4", 3), {peer("s1", 3), peer("s2", 3), peer("s3", 3)});
  CHECK(p.action == Action::wait);
  p = plan_bootstrap(local("s1", 3), {peer("s2", 3), peer("s3", 3), peer("s4", 3)});
  REQUIRE(p.action == Action::form);
  CHECK(p.initial_cluster.back().first == "s3");
}

TEST_CASE("a data dir that holds a member restarts it whatever gossip shows") {
  LocalServer self = local("s1", 3);
  self.has_member_data = true;
  CHECK(plan_bootstrap(self, {}).action == Action::restart_existing);
  CHECK(plan_bootstrap(self, {peer("s2", 5)}).action == Action::restart_existing);
}
