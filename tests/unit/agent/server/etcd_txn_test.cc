// A planned batch committed as one guarded etcd transaction comes back
// through the watch feed as the same rows at one revision; the same guards
// a second time are a conflict, never a double apply.
#include <doctest/doctest.h>

#include "agent/etcd/gateway_decode.h"
#include "agent/server/etcd_rows.h"
#include "agent/server/etcd_txn.h"
#include "agent/server/watch_feed.h"
#include "tests/unit/agent/etcd/etcd_test_member.h"

using namespace cairn;
using namespace cairn::etcd;
using namespace cairn::etcd::testing;
using namespace cairn::server;

namespace {

state::Batch registration() {
  state::Node n;
  n.name = "Web-1";
  n.address = "10.0.0.1";
  state::Service s;
  s.node = "Web-1";
  s.id = "api";
  s.name = "api";
  s.port = 8080;
  state::Check c;
  c.node = "Web-1";
  c.check_id = "service:api";
  c.service_id = "api";
  c.status = state::kPassing;
  state::KVEntry e;
  e.key = "config/api";
  e.value = "v1";
  // A row written twice in one plan: only the last write goes to etcd.
  state::KVEntry first = e;
  first.value = "v0";
  return {state::PutKV{first}, state::PutNode{n}, state::PutService{s}, state::PutCheck{c},
          state::PutKV{e}};
}

TxnResponse commit(uv_loop_t* loop, GatewayClient& client, const TxnBuild& build) {
  REQUIRE_MESSAGE(build.ok(), build.error);
  std::string body;
  encode_txn(body, build.txn);
  CallResult r = call_sync(loop, client, "/v3/kv/txn", body);
  REQUIRE_MESSAGE(r.ok(), r.detail, r.body);
  TxnResponse resp;
  REQUIRE(decode_txn(r.body, resp).ok());
  return resp;
}

}  // namespace

TEST_CASE("build_txn: one op per row, last write wins, guards with read-back") {
  state::Batch batch = registration();
  batch.push_back(state::ReapTombstones{5});
  TxnBuild b = build_txn(batch, {{node_row_key("web-1"), 0}, {kv_row_key("config/api"), 17}});
  REQUIRE(b.ok());
  CHECK(b.txn.success.size() == 4);
  CHECK(std::get<PutRequest>(b.txn.success[0]).key == "/cairn/kv/config/api");
  CHECK(std::get<PutRequest>(b.txn.success[0]).value.find("djE=") != std::string::npos);  // "v1"
  REQUIRE(b.txn.compare.size() == 2);
  CHECK(b.txn.compare[0].target == Compare::Target::create);
  CHECK(b.txn.compare[1].target == Compare::Target::mod);
  CHECK(b.txn.compare[1].number == 17);
  CHECK(b.txn.failure.size() == 2);

  state::Batch big;
  for (size_t i = 0; i <= kMaxTxnOps; ++i) {
    state::KVEntry e;
    e.key = "k" + std::to_string(i);
    big.push_back(state::PutKV{e});
  }
  CHECK(build_txn(big, {}).code == TxnBuild::Code::too_large);
  TxnBuild delay = build_txn({state::SetLockDelay{"k", 1}}, {});
  REQUIRE(delay.ok());
  REQUIRE(delay.txn.success.size() == 1);
}

TEST_CASE("a committed plan comes back through the watch feed as one batch; a replay conflicts") {
  uv_loop_t* loop = uv_default_loop();
  RunningMember etcd_member(loop);
  GatewayClient& client = etcd_member.client;

  std::vector<std::pair<int64_t, state::Batch>> batches;
  WatchFeed::Sink sink;
  sink.on_batch = [&](int64_t rev, state::Batch b) { batches.emplace_back(rev, std::move(b)); };
  WatchFeed feed(loop, client, sink);
  feed.start();
  REQUIRE(run_until(
      loop, [&] { return feed.watching(); }, 10000));

  std::vector<ReadGuard> guards = {{node_row_key("Web-1"), 0}};
  TxnBuild build = build_txn(registration(), guards);
  TxnResponse first = commit(loop, client, build);
  CHECK(first.succeeded);
  int64_t rev = first.header.revision;
  REQUIRE_MESSAGE(run_until(
                      loop, [&] { return feed.revision() >= rev; }, 5000),
                  "no event");
  REQUIRE(batches.size() == 1);
  CHECK(batches[0].first == rev);
  REQUIRE(batches[0].second.size() == 4);
  const auto& kv = std::get<state::PutKV>(batches[0].second[0]).entry;
  CHECK(kv.value == "v1");
  CHECK(kv.raft.modify_index == static_cast<uint64_t>(rev));
  CHECK(std::get<state::PutService>(batches[0].second[2]).service.port == 8080);

  // The same plan again (a retry after an unknown outcome): the guard fails,
  // nothing is written, and the read-back shows the row's new revision.
  TxnResponse replay = commit(loop, client, build);
  CHECK_FALSE(replay.succeeded);
  REQUIRE(replay.responses.size() == 1);
  CHECK(std::get<RangeResponse>(replay.responses[0]).kvs.at(0).mod_revision == rev);

  // Deregistration guarded by the revision it read.
  state::Batch removal = {state::DeleteCheck{"Web-1", "service:api"},
                          state::DeleteService{"Web-1", "api"}, state::DeleteNode{"Web-1"}};
  TxnResponse removed = commit(loop, client, build_txn(removal, {{node_row_key("web-1"), rev}}));
  CHECK(removed.succeeded);
  REQUIRE(run_until(
      loop, [&] { return batches.size() == 2; }, 5000));
  REQUIRE(batches[1].second.size() == 3);
  CHECK(std::get<state::DeleteNode>(batches[1].second[2]).name == "web-1");
  feed.stop();
}
