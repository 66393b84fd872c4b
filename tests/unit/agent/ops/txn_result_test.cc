#include "agent/ops/txn_result.h"

#include <doctest/doctest.h>

#include <string>

#include "agent/state/txn_ops.h"

using namespace cairn;
using namespace cairn::ops;
using state::KVVerb;

namespace {

// Plans ops and, when they hold, commits them, as the writer does before the
// answer is rendered.
struct TxnFixture {
  state::Store store;
  TxnOutcome outcome = TxnOutcome::committed;
  std::string body;

  void run(const std::vector<state::KVOp>& ops) {
    state::TxnPlan plan = state::plan_kv_txn(store, ops, 0);
    if (plan.ok() && !plan.batch.empty()) store.apply(plan.batch, store.index() + 1);
    body.clear();
    JsonWriter w(body);
    outcome = write_txn_result(w, store, plan);
  }
};

state::KVOp op(KVVerb verb, std::string key, std::string value = "", uint64_t index = 0) {
  state::KVOp o;
  o.verb = verb;
  o.key = std::move(key);
  o.value = std::move(value);
  o.index = index;
  return o;
}

}  // namespace

TEST_CASE("a committed write reports the key without its value, a get with it") {
  TxnFixture f;
  f.run({op(KVVerb::set, "a", "1"), op(KVVerb::get, "a")});
  CHECK(f.outcome == TxnOutcome::committed);
  CHECK(
      f.body ==
      R"({"Results":[)"
      R"({"KV":{"LockIndex":0,"Key":"a","Flags":0,"Value":null,"CreateIndex":1,"ModifyIndex":1}},)"
      R"({"KV":{"LockIndex":0,"Key":"a","Flags":0,"Value":"MQ==","CreateIndex":1,"ModifyIndex":1}})"
      R"(],"Errors":null})");
}

TEST_CASE("get-tree reports every key under the prefix, in order") {
  TxnFixture f;
  f.run({op(KVVerb::set, "d/x", "1"), op(KVVerb::set, "d/y", "2"), op(KVVerb::set, "e", "3")});
  f.run({op(KVVerb::get_tree, "d/")});
  CHECK(f.outcome == TxnOutcome::committed);
  CHECK(
      f.body ==
      R"({"Results":[)"
      R"({"KV":{"LockIndex":0,"Key":"d/x","Flags":0,"Value":"MQ==","CreateIndex":1,"ModifyIndex":1}},)"
      R"({"KV":{"LockIndex":0,"Key":"d/y","Flags":0,"Value":"Mg==","CreateIndex":1,"ModifyIndex":1}})"
      R"(],"Errors":null})");
}

TEST_CASE("get-or-empty reports a missing key as null; a delete reports nothing") {
  TxnFixture f;
  f.run({op(KVVerb::get_or_empty, "missing"), op(KVVerb::del, "missing")});
  CHECK(f.outcome == TxnOutcome::committed);
  CHECK(f.body == R"({"Results":[{"KV":null}],"Errors":null})");
}

TEST_CASE("an empty transaction commits with no results") {
  TxnFixture f;
  f.run({});
  CHECK(f.outcome == TxnOutcome::committed);
  CHECK(f.body == R"({"Results":[],"Errors":null})");
}

TEST_CASE("a failed transaction reports its errors and no results") {
  TxnFixture f;
  f.run({op(KVVerb::set, "a", "1"), op(KVVerb::get, "missing")});
  CHECK(f.outcome == TxnOutcome::rolled_back);
  CHECK(f.body ==
        R"({"Results":null,"Errors":[{"OpIndex":1,"What":"key \"missing\" doesn't exist"}]})");
  // All or nothing: the set was not written.
  CHECK(f.store.kv("a") == nullptr);
}

TEST_CASE("only gets and checks make a read-only transaction") {
  using state::txn_reads_only;
  CHECK(txn_reads_only({}));
  CHECK(txn_reads_only({op(KVVerb::get, "a"), op(KVVerb::get_tree, "b"),
                        op(KVVerb::get_or_empty, "c"), op(KVVerb::check_index, "d"),
                        op(KVVerb::check_session, "e"), op(KVVerb::check_not_exists, "f")}));
  for (KVVerb write : {KVVerb::set, KVVerb::cas, KVVerb::lock, KVVerb::unlock, KVVerb::del,
                       KVVerb::delete_tree, KVVerb::delete_cas})
    CHECK_FALSE(txn_reads_only({op(KVVerb::get, "a"), op(write, "b")}));
}

TEST_CASE("catalog results: Node, Service (a NodeService) and Check, empty maps and lists null") {
  state::Store store;
  state::Node n;
  n.name = "foo";
  n.address = "2.2.2.2";
  n.datacenter = "dc1";
  state::Service s;
  s.node = "foo";
  s.id = "foo1";
  s.name = "foo";
  state::Check c;
  c.node = "foo";
  c.check_id = "bar";
  c.status = state::kCritical;
  c.type = "tcp";
  store.apply(
      std::vector<state::Mutation>{state::PutNode{n}, state::PutService{s}, state::PutCheck{c}}, 1);
  state::NodeTxnOp get_node;
  get_node.node.name = "foo";
  state::ServiceTxnOp get_service;
  get_service.node = "foo";
  get_service.service.id = "foo1";
  state::CheckTxnOp get_check;
  get_check.check.node = "foo";
  get_check.check.check_id = "bar";
  state::TxnPlan plan = state::plan_txn(store, {get_node, get_service, get_check}, 0);
  REQUIRE(plan.ok());
  std::string body;
  JsonWriter w(body);
  CHECK(write_txn_result(w, store, plan) == TxnOutcome::committed);
  // The Go client compares these with nil maps and slices: null, not {} or [].
  CHECK(body ==
        R"({"Results":[)"
        R"({"Node":{"ID":"","Node":"foo","Address":"2.2.2.2","Datacenter":"dc1",)"
        R"("TaggedAddresses":null,"Meta":null,"CreateIndex":1,"ModifyIndex":1}},)"
        R"({"Service":{"ID":"foo1","Service":"foo","Tags":[],"Meta":{},"Port":0,"Address":"",)"
        R"("Weights":{"Passing":1,"Warning":1},"EnableTagOverride":false,)"
        R"("CreateIndex":1,"ModifyIndex":1}},)"
        R"({"Check":{"Node":"foo","CheckID":"bar","Name":"","Status":"critical","Notes":"",)"
        R"("Output":"","ServiceID":"","ServiceName":"","ServiceTags":null,"Type":"tcp",)"
        R"("Interval":"","Timeout":"","ExposedPort":0,"Definition":{},)"
        R"("CreateIndex":1,"ModifyIndex":1}})"
        R"(],"Errors":null})");
}
