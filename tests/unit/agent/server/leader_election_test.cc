// Two servers campaign on one real etcd: exactly one leads, the other takes
// over when it resigns, and the deposed leader's fence no longer admits writes.
#include <doctest/doctest.h>

#include "agent/etcd/gateway_decode.h"
#include "agent/etcd/member_process.h"
#include "agent/server/leader_election.h"
#include "tests/unit/agent/etcd/etcd_test_member.h"

using namespace cairn;
using namespace cairn::etcd;
using namespace cairn::etcd::testing;
using namespace cairn::server;

namespace {

// A put guarded by a leader fence, as every leader-only write is.
bool fenced_put(uv_loop_t* loop, GatewayClient& client, const LeaderKey& fence) {
  TxnRequest txn;
  Compare still_leader;
  still_leader.key = fence.key;
  still_leader.target = Compare::Target::create;
  still_leader.number = fence.rev;
  txn.compare.push_back(still_leader);
  PutRequest put;
  put.key = "/cairn/kv/fenced";
  put.value = "{}";
  txn.success.emplace_back(put);
  std::string body;
  encode_txn(body, txn);
  CallResult r = call_sync(loop, client, "/v3/kv/txn", body);
  REQUIRE(r.ok());
  TxnResponse resp;
  REQUIRE(decode_txn(r.body, resp).ok());
  return resp.succeeded;
}

}  // namespace

TEST_CASE("one leader among two candidates; resign hands over; a stale fence cannot write") {
  uv_loop_t* loop = uv_default_loop();
  RunningMember etcd_member(loop);
  GatewayClient& client_a = etcd_member.client;
  GatewayClient client_b(loop, RunningMember::endpoint_of(etcd_member.config));

  int a_lost = 0;
  LeaderElection::Events a_events;
  a_events.on_lost = [&] { ++a_lost; };
  LeaderElection a(loop, client_a, "127.0.0.1:8300", a_events);
  LeaderElection b(loop, client_b, "127.0.0.2:8300", {});
  a.start();
  REQUIRE_MESSAGE(run_until(
                      loop, [&] { return a.is_leader(); }, 5000),
                  "a was not elected");
  b.start();
  // b's campaign is blocked: give it time to (wrongly) win, then check it did not.
  run_until(
      loop, [&] { return b.is_leader(); }, 1000);
  CHECK_FALSE(b.is_leader());
  LeaderKey a_fence = *a.fence();
  CHECK(fenced_put(loop, client_a, a_fence));

  // Who leads, as every server reads it.
  std::string body;
  encode_election_name(body, kLeaderElection);
  ElectionLeaderResponse leader;
  REQUIRE(
      decode_election_leader(call_sync(loop, client_b, "/v3/election/leader", body).body, leader)
          .ok());
  REQUIRE(leader.kv);
  CHECK(leader.kv->value == "127.0.0.1:8300");

  bool resigned = false;
  a.resign([&] { resigned = true; });
  CHECK(a_lost == 1);
  REQUIRE(run_until(
      loop, [&] { return resigned; }, 5000));
  REQUIRE_MESSAGE(run_until(
                      loop, [&] { return b.is_leader(); }, 5000),
                  "b did not take over");
  CHECK_FALSE(a.is_leader());
  CHECK_FALSE(fenced_put(loop, client_a, a_fence));  // deposed: its key is gone
  CHECK(fenced_put(loop, client_b, *b.fence()));

  bool b_resigned = false;
  b.resign([&] { b_resigned = true; });
  REQUIRE(run_until(
      loop, [&] { return b_resigned; }, 5000));
}
