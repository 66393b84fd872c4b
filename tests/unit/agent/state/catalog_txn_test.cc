// Node, Service and Check operations of a transaction: Consul's verbs, checks
// and messages, all or nothing with the KV operations beside them.
#include "agent/state/catalog_txn.h"

#include <doctest/doctest.h>

#include "agent/state/txn_ops.h"

using namespace cairn::state;

namespace {

struct TxnFixture {
  Store store;
  TxnPlan run(std::vector<TxnOp> ops) {
    TxnPlan p = plan_txn(store, ops, 0);
    if (p.ok() && !p.batch.empty()) store.apply(p.batch, store.index() + 1);
    return p;
  }
};

NodeTxnOp node_op(CatalogVerb verb, std::string name, std::string address = "",
                  uint64_t index = 0) {
  NodeTxnOp op;
  op.verb = verb;
  op.node.name = std::move(name);
  op.node.address = std::move(address);
  op.node.raft.modify_index = index;
  return op;
}

ServiceTxnOp service_op(CatalogVerb verb, std::string node, std::string id, std::string name = "",
                        uint64_t index = 0) {
  ServiceTxnOp op;
  op.verb = verb;
  op.node = std::move(node);
  op.service.id = std::move(id);
  op.service.name = std::move(name);
  op.service.raft.modify_index = index;
  return op;
}

CheckTxnOp check_op(CatalogVerb verb, std::string node, std::string id, std::string service_id = "",
                    std::string status = "", uint64_t index = 0) {
  CheckTxnOp op;
  op.verb = verb;
  op.check.node = std::move(node);
  op.check.check_id = std::move(id);
  op.check.service_id = std::move(service_id);
  op.check.status = std::move(status);
  op.check.raft.modify_index = index;
  return op;
}

KVOp kv_set(std::string key, std::string value) {
  KVOp o;
  o.verb = KVVerb::set;
  o.key = std::move(key);
  o.value = std::move(value);
  return o;
}

}  // namespace

TEST_CASE("catalog verbs parse by Consul's names") {
  CatalogVerb v;
  CHECK((parse_catalog_verb("delete-cas", v) && v == CatalogVerb::delete_cas));
  CHECK((parse_catalog_verb("get", v) && v == CatalogVerb::get));
  CHECK_FALSE(parse_catalog_verb("get-tree", v));
}

TEST_CASE("one transaction registers a node, its service and a check, each seeing the last") {
  TxnFixture f;
  TxnPlan p = f.run({node_op(CatalogVerb::set, "db-1", "10.0.0.2"),
                     service_op(CatalogVerb::set, "db-1", "", "db"),
                     check_op(CatalogVerb::set, "db-1", "db-ok", "db", "passing"),
                     kv_set("db/leader", "db-1")});
  REQUIRE(p.ok());
  CHECK(f.store.node("db-1")->address == "10.0.0.2");
  const Service* s = f.store.service("db-1", "db");  // the ID defaults to the name
  REQUIRE(s);
  CHECK(s->weights == Weights{});
  const Check* c = f.store.check("db-1", "db-ok");
  REQUIRE(c);
  CHECK(c->service_name == "db");
  CHECK(c->status == kPassing);
  CHECK(f.store.kv("db/leader")->value == "db-1");
  // Every write reports its row, KV ones their key.
  REQUIRE(p.reports.size() == 4);
  CHECK(p.reports[0].kind == TxnPlan::Report::Kind::node);
  CHECK(p.reports[1].kind == TxnPlan::Report::Kind::service);
  CHECK(p.reports[1].key == "db");
  CHECK(p.reports[2].kind == TxnPlan::Report::Kind::check);
  CHECK(p.reports[3].kind == TxnPlan::Report::Kind::kv);
}

TEST_CASE("gets report rows; missing rows are Consul's errors, and nothing is written") {
  TxnFixture f;
  REQUIRE(f.run({node_op(CatalogVerb::set, "foo", "2.2.2.2"),
                 service_op(CatalogVerb::set, "foo", "foo1", "foo")})
              .ok());
  TxnPlan p =
      f.run({kv_set("k", "v"), node_op(CatalogVerb::get, "foo"),
             service_op(CatalogVerb::get, "foo", "foo1"), node_op(CatalogVerb::get, "bar"),
             service_op(CatalogVerb::get, "foo", "x"), check_op(CatalogVerb::get, "foo", "c")});
  REQUIRE(p.errors.size() == 3);
  CHECK(p.errors[0].op_index == 3);
  CHECK(p.errors[0].what == "node \"bar\" doesn't exist");
  CHECK(p.errors[1].what == "service \"x\" on node \"foo\" doesn't exist");
  CHECK(p.errors[2].what == "check \"c\" on node \"foo\" doesn't exist");
  CHECK(p.batch.empty());
  CHECK(p.reports.empty());
  CHECK_FALSE(f.store.kv("k"));
}

TEST_CASE("a node is found by ID when one is given") {
  TxnFixture f;
  NodeTxnOp set = node_op(CatalogVerb::set, "foo", "2.2.2.2");
  set.node.id = "b0f3e1a2-0000-4000-8000-000000000001";
  REQUIRE(f.run({set}).ok());
  NodeTxnOp get;
  get.verb = CatalogVerb::get;
  get.node.id = "B0F3E1A2-0000-4000-8000-000000000001";
  TxnPlan p = f.run({get});
  REQUIRE(p.ok());
  CHECK(p.reports[0].node == "foo");
  NodeTxnOp bad = node_op(CatalogVerb::set, "foo");
  bad.node.id = "not-a-uuid";
  CHECK(f.run({bad}).errors[0].what == "Invalid node ID: \"not-a-uuid\"");
}

TEST_CASE("cas and delete-cas compare the row's ModifyIndex; 0 means absent") {
  TxnFixture f;
  REQUIRE(f.run({node_op(CatalogVerb::cas, "n1", "10.0.0.1", 0)}).ok());
  uint64_t idx = f.store.node("n1")->raft.modify_index;
  TxnPlan stale = f.run({node_op(CatalogVerb::cas, "n1", "10.0.0.9", idx + 1)});
  REQUIRE(stale.errors.size() == 1);
  CHECK(stale.errors[0].what == "failed to set node \"n1\", index is stale");
  CHECK(stale.errors[0].condition);
  CHECK(f.run({node_op(CatalogVerb::cas, "n1", "10.0.0.9", idx)}).ok());
  CHECK(f.store.node("n1")->address == "10.0.0.9");

  REQUIRE(f.run({service_op(CatalogVerb::cas, "n1", "web", "web", 0)}).ok());
  CHECK(f.run({service_op(CatalogVerb::cas, "n1", "web", "web", 0)}).errors[0].what ==
        "failed to set service \"web\" on node \"n1\", index is stale");
  uint64_t sidx = f.store.service("n1", "web")->raft.modify_index;
  CHECK(f.run({service_op(CatalogVerb::delete_cas, "n1", "web", "", sidx + 5)}).errors[0].what ==
        "failed to delete service \"web\" on node \"n1\", index is stale");
  CHECK(f.run({service_op(CatalogVerb::delete_cas, "n1", "web", "", sidx)}).ok());
  CHECK_FALSE(f.store.service("n1", "web"));

  REQUIRE(f.run({check_op(CatalogVerb::set, "n1", "alive")}).ok());
  const Check* c = f.store.check("n1", "alive");
  REQUIRE(c);
  CHECK(c->status == kCritical);  // Consul's default
  CHECK(f.run({check_op(CatalogVerb::delete_cas, "n1", "alive", "", "", 1)}).errors[0].what ==
        "failed to delete check \"alive\" on node \"n1\", index is stale");
  CHECK(
      f.run({check_op(CatalogVerb::cas, "n1", "alive", "", "passing", c->raft.modify_index)}).ok());
  CHECK(f.store.check("n1", "alive")->status == kPassing);

  // A row written earlier in the same transaction has no index yet: cas on it is stale.
  TxnPlan same = f.run(
      {node_op(CatalogVerb::set, "n2", "10.0.0.2"), node_op(CatalogVerb::delete_cas, "n2", "", 1)});
  CHECK(same.errors.size() == 1);
  CHECK_FALSE(f.store.node("n2"));
}

TEST_CASE("services and checks need their node, checks their service") {
  TxnFixture f;
  CHECK(f.run({service_op(CatalogVerb::set, "ghost", "web", "web")}).errors[0].what ==
        "Missing node registration");
  REQUIRE(f.run({node_op(CatalogVerb::set, "n1", "10.0.0.1")}).ok());
  CHECK(f.run({check_op(CatalogVerb::set, "n1", "c", "nope")}).errors[0].what ==
        "Missing service registration");
  CHECK(f.run({service_op(CatalogVerb::set, "n1", "web", "")}).errors[0].what ==
        "Must provide service name with ID");
  CHECK(f.run({check_op(CatalogVerb::set, "n1", "c", "", "bogus")}).errors[0].what ==
        "Invalid check status: \"bogus\"");
  CHECK(f.run({node_op(CatalogVerb::set, "")}).errors[0].what == "Must provide node");
}

TEST_CASE("deleting a node takes its services and checks, even those written just before") {
  TxnFixture f;
  REQUIRE(f.run({node_op(CatalogVerb::set, "n1", "10.0.0.1"),
                 service_op(CatalogVerb::set, "n1", "web", "web"),
                 check_op(CatalogVerb::set, "n1", "web-ok", "web", "passing")})
              .ok());
  TxnPlan p = f.run({service_op(CatalogVerb::set, "n1", "db", "db"),
                     check_op(CatalogVerb::set, "n1", "node-ok", "", "passing"),
                     node_op(CatalogVerb::del, "n1")});
  REQUIRE(p.ok());
  CHECK_FALSE(f.store.node("n1"));
  CHECK(f.store.services_of_node("n1").empty());
  CHECK(f.store.checks_of_node("n1").empty());
  // Deleting what is not there is no error, as in Consul.
  CHECK(f.run({node_op(CatalogVerb::del, "n1"), service_op(CatalogVerb::del, "n1", "web"),
               check_op(CatalogVerb::del, "n1", "x")})
            .ok());
}

TEST_CASE("a service's new name and tags reach its checks in the same transaction") {
  TxnFixture f;
  REQUIRE(f.run({node_op(CatalogVerb::set, "n1", "10.0.0.1"),
                 service_op(CatalogVerb::set, "n1", "web", "web"),
                 check_op(CatalogVerb::set, "n1", "web-ok", "web", "passing")})
              .ok());
  ServiceTxnOp rename = service_op(CatalogVerb::set, "n1", "web", "www");
  rename.service.tags = {"v2"};
  REQUIRE(f.run({rename}).ok());
  CHECK(f.store.check("n1", "web-ok")->service_name == "www");
  CHECK(f.store.check("n1", "web-ok")->service_tags == std::vector<std::string>{"v2"});
}

TEST_CASE("a transaction that only gets is read-only") {
  CHECK(txn_reads_only({node_op(CatalogVerb::get, "a"), service_op(CatalogVerb::get, "a", "b")}));
  CHECK_FALSE(txn_reads_only({node_op(CatalogVerb::get, "a"), node_op(CatalogVerb::del, "a")}));
  CHECK_FALSE(txn_reads_only({kv_set("a", "b")}));
}
