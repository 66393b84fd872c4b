// A snapshot restore on a server is one etcd transaction: against a real
// member, it replaces every row (more than cairn's 128-operation writes),
// keeps other keys, and fails as a whole when another writer got in first.
#include "agent/server/etcd_restore.h"

#include <doctest/doctest.h>

#include "agent/etcd/gateway_decode.h"
#include "agent/etcd/gateway_encode.h"
#include "agent/server/etcd_rows.h"
#include "agent/server/etcd_txn.h"
#include "tests/unit/agent/etcd/etcd_test_member.h"

using namespace cairn;
using namespace cairn::etcd;
using namespace cairn::etcd::testing;
using namespace cairn::server;

namespace {

constexpr const char* kRestoredSessionId = "5e1ba3b8-7b8f-4c7e-9f2a-0a4f0e6b1c2d";

state::KVEntry entry_of(std::string key, std::string value) {
  state::KVEntry e;
  e.key = std::move(key);
  e.value = std::move(value);
  return e;
}

state::Batch rows_before() {
  state::Node n;
  n.name = "web-1";
  n.address = "10.0.0.1";
  return {state::PutNode{n}, state::PutKV{entry_of("old/1", "x")},
          state::PutKV{entry_of("keep", "v1")}};
}

state::Batch rows_in_snapshot(size_t kv_count) {
  state::Node n;
  n.name = "web-2";
  n.address = "10.0.0.2";
  state::Session s;
  s.id = kRestoredSessionId;
  s.node = "web-2";
  s.ttl = 10'000'000'000;
  state::Batch rows{state::PutNode{n}, state::PutSession{s}, state::PutKV{entry_of("keep", "v0")}};
  for (size_t i = 0; i < kv_count; ++i)
    rows.push_back(
        state::PutKV{entry_of("new/" + std::to_string(i), "value " + std::to_string(i))});
  return rows;
}

TxnResponse send_txn(uv_loop_t* loop, GatewayClient& client, const TxnRequest& txn) {
  std::string body;
  encode_txn(body, txn);
  CallResult r = call_sync(loop, client, "/v3/kv/txn", body);
  REQUIRE_MESSAGE(r.ok(), r.detail, r.body);
  TxnResponse resp;
  REQUIRE(decode_txn(r.body, resp).ok());
  return resp;
}

std::vector<KeyValue> list_prefix(uv_loop_t* loop, GatewayClient& client,
                                  const std::string& prefix) {
  RangeRequest req;
  req.key = prefix;
  req.range_end = prefix_end(prefix);
  std::string body;
  encode_range(body, req);
  CallResult r = call_sync(loop, client, "/v3/kv/range", body);
  REQUIRE(r.ok());
  RangeResponse resp;
  REQUIRE(decode_range(r.body, resp).ok());
  return resp.kvs;
}

void grant_lease(uv_loop_t* loop, GatewayClient& client, const RestoreLease& lease) {
  std::string body;
  encode_lease_grant(body, lease.ttl_seconds, lease.id);
  CallResult r = call_sync(loop, client, "/v3/lease/grant", body);
  REQUIRE(r.ok());
}

}  // namespace

TEST_CASE("restore txn: guards every table, deletes what the snapshot lacks, puts the rest") {
  state::Store store;
  store.apply(rows_before(), 5);
  RestoreBuild b = build_restore_txn(store, rows_in_snapshot(2));
  REQUIRE_MESSAGE(b.ok(), b.error);
  REQUIRE(b.txn.compare.size() == 6);
  for (const auto& c : b.txn.compare) {
    CHECK(c.target == Compare::Target::mod);
    CHECK(c.result == Compare::Result::less);
    CHECK(c.number == 6);
    CHECK(c.range_end == prefix_end(c.key));
  }
  // Two deletes (web-1, old/1; "keep" is overwritten), then five puts.
  REQUIRE(b.txn.success.size() == 7);
  CHECK(std::get<DeleteRangeRequest>(b.txn.success[0]).key == node_row_key("web-1"));
  CHECK(std::get<DeleteRangeRequest>(b.txn.success[1]).key == kv_row_key("old/1"));
  CHECK(std::get<PutRequest>(b.txn.success[3]).lease == session_lease_id(kRestoredSessionId));
  REQUIRE(b.grant.size() == 1);
  CHECK(b.grant[0].id == session_lease_id(kRestoredSessionId));
  CHECK(b.revoke.empty());

  state::Batch twice = rows_in_snapshot(1);
  twice.push_back(twice.back());
  CHECK(build_restore_txn(store, twice).code == RestoreBuild::Code::invalid);
  CHECK(build_restore_txn(store, {state::DeleteKV{"keep"}}).code == RestoreBuild::Code::invalid);

  state::Batch huge{state::PutKV{entry_of("big", std::string(kMaxRestoreRequestBytes, 'x'))}};
  RestoreBuild too_large = build_restore_txn(store, huge);
  CHECK(too_large.code == RestoreBuild::Code::too_large);
  CHECK(too_large.error.find("docs/snapshot.md") != std::string::npos);
  CHECK(too_large.txn.success.empty());
}

TEST_CASE("restore txn: one etcd revision replaces every row; a concurrent write fails it whole") {
  uv_loop_t* loop = uv_default_loop();
  RunningMember etcd_member(loop);
  GatewayClient& client = etcd_member.client;

  // A key outside the tables a snapshot holds stays untouched.
  TxnRequest other;
  other.success.push_back(PutRequest{"/cairn/leader/abc", "me", 0, false});
  REQUIRE(send_txn(loop, client, other).succeeded);
  TxnResponse first = send_txn(loop, client, build_txn(rows_before(), {}).txn);
  REQUIRE(first.succeeded);
  state::Store cache;
  cache.apply(rows_before(), static_cast<uint64_t>(first.header.revision));

  // More rows than one of cairn's ordinary writes may touch.
  constexpr size_t kRows = 3 * kMaxTxnOps;
  RestoreBuild b = build_restore_txn(cache, rows_in_snapshot(kRows));
  REQUIRE_MESSAGE(b.ok(), b.error);
  for (const auto& lease : b.grant) grant_lease(loop, client, lease);
  TxnResponse restored = send_txn(loop, client, b.txn);
  REQUIRE(restored.succeeded);
  CHECK(restored.header.revision == first.header.revision + 1);

  std::vector<KeyValue> rows = list_prefix(loop, client, "/cairn/");
  CHECK(rows.size() == kRows + 3 + 1);  // snapshot rows, the leader key
  for (const auto& row : rows) {
    CHECK(row.key != node_row_key("web-1"));
    CHECK(row.key != kv_row_key("old/1"));
    if (row.key != "/cairn/leader/abc") CHECK(row.mod_revision == restored.header.revision);
    if (row.key == session_row_key(kRestoredSessionId))
      CHECK(row.lease == session_lease_id(kRestoredSessionId));
  }

  // Planned against a cache that has not seen a later write: refused whole.
  TxnRequest sneaky;
  sneaky.success.push_back(PutRequest{kv_row_key("sneaky"), "{}", 0, false});
  REQUIRE(send_txn(loop, client, sneaky).succeeded);
  state::Store stale;
  stale.apply(rows_before(), static_cast<uint64_t>(restored.header.revision));
  RestoreBuild late = build_restore_txn(stale, rows_in_snapshot(1));
  REQUIRE(late.ok());
  TxnResponse refused = send_txn(loop, client, late.txn);
  CHECK_FALSE(refused.succeeded);
  CHECK(list_prefix(loop, client, "/cairn/kv/new/").size() == kRows);
}
