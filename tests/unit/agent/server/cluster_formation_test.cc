// Three servers form one etcd cluster from the bootstrap plan, each member on
// its own 127.0.0.x with the same peer port; a fourth joins as a learner and
// is promoted; a member is removed; writes go on at every step.
#include <doctest/doctest.h>

#include <memory>

#include "agent/etcd/cluster_membership.h"
#include "agent/etcd/gateway_decode.h"
#include "agent/etcd/member_process.h"
#include "agent/server/bootstrap_plan.h"
#include "tests/unit/agent/etcd/etcd_test_member.h"

using namespace cairn;
using namespace cairn::etcd;
using namespace cairn::etcd::testing;
using namespace cairn::server;

namespace {

struct Server {
  std::string name;
  std::string peer_url;
  TempDir dir;
  std::unique_ptr<MemberProcess> member;
  std::unique_ptr<GatewayClient> client;
};

void start_server(uv_loop_t* loop, Server& s,
                  std::vector<std::pair<std::string, std::string>> initial_cluster,
                  bool join_existing) {
  MemberConfig c;
  c.name = s.name;
  c.data_dir = (s.dir.path / "etcd").string();
  c.run_dir = s.dir.path.string();
  c.peer_url = s.peer_url;
  c.initial_cluster = std::move(initial_cluster);
  c.join_existing = join_existing;
  c.cluster_token = "cairn-dc1";
  c.unsafe_no_fsync = true;
  s.member = std::make_unique<MemberProcess>(loop, c, MemberProcess::Events{});
  s.member->start();
  ClientEndpoint e;
  e.unix_socket = client_socket_path(c.run_dir);
  s.client = std::make_unique<GatewayClient>(loop, e);
}

bool put(uv_loop_t* loop, GatewayClient& client, const std::string& key) {
  PutRequest p;
  p.key = key;
  p.value = "{}";
  std::string body;
  encode_put(body, p);
  return call_sync(loop, client, "/v3/kv/put", body).ok();
}

MembershipResult run(uv_loop_t* loop, const std::function<void(ClusterMembership::Done)>& call) {
  std::optional<MembershipResult> out;
  call([&](MembershipResult r) { out = std::move(r); });
  REQUIRE_MESSAGE(run_until(
                      loop, [&] { return out.has_value(); }, 30000),
                  "no membership answer");
  return std::move(*out);
}

}  // namespace

TEST_CASE("three servers form one cluster from the plan; a fourth joins as a learner") {
  uv_loop_t* loop = uv_default_loop();
  uint16_t port = free_tcp_port();
  std::vector<std::unique_ptr<Server>> servers;
  for (int i = 1; i <= 4; ++i) {
    auto s = std::make_unique<Server>();
    s->name = "s" + std::to_string(i);
    s->peer_url = "http://127.0.0." + std::to_string(i) + ":" + std::to_string(port);
    servers.push_back(std::move(s));
  }
  auto seen_by = [&](int self, int count) {
    std::vector<SeenServer> seen;
    for (int i = 0; i < count; ++i) {
      if (i == self) continue;
      SeenServer p;
      p.name = servers[i]->name;
      p.datacenter = "dc1";
      p.expect = 3;
      p.peer_url = servers[i]->peer_url;
      p.member_running =
          servers[i]->member && servers[i]->member->state() == MemberProcess::State::running;
      seen.push_back(p);
    }
    return seen;
  };
  auto local = [&](int i) {
    LocalServer l;
    l.name = servers[i]->name;
    l.datacenter = "dc1";
    l.expect = 3;
    l.peer_url = servers[i]->peer_url;
    return l;
  };

  // Each of the three computes its plan from what it sees, and they agree.
  std::vector<BootstrapPlan> plans;
  for (int i = 0; i < 3; ++i) plans.push_back(plan_bootstrap(local(i), seen_by(i, 3)));
  for (const auto& p : plans) {
    REQUIRE(p.action == BootstrapPlan::Action::form);
    CHECK(p.initial_cluster == plans[0].initial_cluster);
  }
  for (int i = 0; i < 3; ++i) start_server(loop, *servers[i], plans[i].initial_cluster, false);
  for (int i = 0; i < 3; ++i)
    REQUIRE_MESSAGE(wait_ready(loop, *servers[i]->client, 20000), "member " << i << " not ready");
  CHECK(put(loop, *servers[2]->client, "/cairn/kv/formed"));

  // The fourth sees running members: it joins instead of forming.
  BootstrapPlan late = plan_bootstrap(local(3), seen_by(3, 3));
  REQUIRE(late.action == BootstrapPlan::Action::join);
  ClusterMembership via(loop, *servers[0]->client);
  MembershipResult added =
      run(loop, [&](ClusterMembership::Done d) { via.add_learner(servers[3]->peer_url, d); });
  REQUIRE_MESSAGE(added.ok, added.error);
  CHECK(added.member.is_learner);
  auto initial = ClusterMembership::initial_cluster_for_join(added.members, servers[3]->name,
                                                             servers[3]->peer_url);
  CHECK(initial.size() == 4);
  start_server(loop, *servers[3], initial, true);
  MembershipResult promoted =
      run(loop, [&](ClusterMembership::Done d) { via.promote(added.member.id, d); });
  REQUIRE_MESSAGE(promoted.ok, promoted.error);
  REQUIRE(wait_ready(loop, *servers[3]->client, 20000));
  MembershipResult listed = run(loop, [&](ClusterMembership::Done d) { via.list(d); });
  REQUIRE(listed.ok);
  CHECK(listed.members.size() == 4);
  for (const auto& m : listed.members) CHECK_FALSE(m.is_learner);
  CHECK(put(loop, *servers[3]->client, "/cairn/kv/joined"));

  // A server leaves: its member is removed and exits by itself.
  uint64_t s2_id = 0;
  for (const auto& m : listed.members)
    if (m.name == "s2") s2_id = m.id;
  REQUIRE(s2_id != 0);
  MembershipResult removed = run(loop, [&](ClusterMembership::Done d) { via.remove(s2_id, d); });
  REQUIRE_MESSAGE(removed.ok, removed.error);
  CHECK(removed.members.size() == 3);
  CHECK_MESSAGE(
      run_until(
          loop, [&] { return servers[1]->member->state() == MemberProcess::State::failed; }, 15000),
      "the removed member did not stop for good");
  CHECK(servers[1]->member->failure().find("removed from the cluster") != std::string::npos);
  // If the removed member led, the others elect a new leader first: writes
  // resume within a few election timeouts.
  uint64_t deadline = uv_now(loop) + 10000;
  bool resumed = false;
  while (!resumed && uv_now(loop) < deadline)
    resumed = put(loop, *servers[0]->client, "/cairn/kv/after-leave");
  CHECK_MESSAGE(resumed, "no write accepted after the member left");

  for (auto& s : servers) {
    if (!s->member) continue;
    bool stopped = false;
    s->member->stop([&] { stopped = true; });
    run_until(
        loop, [&] { return stopped; }, 15000);
  }
}
