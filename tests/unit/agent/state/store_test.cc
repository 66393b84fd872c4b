#include "agent/state/store.h"

#include <doctest/doctest.h>

#include "agent/state/catalog_ops.h"

using namespace cairn::state;

namespace {

Node make_node(std::string name, std::string addr = "10.0.0.1") {
  Node n;
  n.name = std::move(name);
  n.address = std::move(addr);
  n.datacenter = "dc1";
  return n;
}

Service make_service(std::string node, std::string id, std::string name) {
  Service s;
  s.node = std::move(node);
  s.id = std::move(id);
  s.name = std::move(name);
  s.port = 80;
  return s;
}

Check make_check(std::string node, std::string id, std::string service_id = "",
                 std::string service_name = "") {
  Check c;
  c.node = std::move(node);
  c.check_id = std::move(id);
  c.name = c.check_id;
  c.service_id = std::move(service_id);
  c.service_name = std::move(service_name);
  c.status = kPassing;
  return c;
}

struct StoreFixture {
  Store store;
  uint64_t next = 1;
  void apply(Batch b) { store.apply(b, next++); }
};

}  // namespace

TEST_CASE("rows keep create index and take the batch's modify index") {
  StoreFixture f;
  f.apply({PutNode{make_node("a")}});
  f.apply({PutNode{make_node("a", "10.0.0.2")}});
  const Node* n = f.store.node("A");  // names are case-insensitive
  REQUIRE(n);
  CHECK(n->address == "10.0.0.2");
  CHECK(n->raft.create_index == 1);
  CHECK(n->raft.modify_index == 2);
  CHECK(f.store.index() == 2);
  CHECK(f.store.index_of(kNodesTable) == 2);
}

TEST_CASE("service instances are found by name in node order") {
  StoreFixture f;
  f.apply({PutNode{make_node("b")}, PutNode{make_node("a")},
           PutService{make_service("b", "web1", "web")}, PutService{make_service("a", "web2", "Web")},
           PutService{make_service("a", "db", "db")}});
  auto web = f.store.service_instances("WEB");
  REQUIRE(web.size() == 2);
  CHECK(web[0]->node == "a");
  CHECK(web[1]->node == "b");
  CHECK(f.store.services_of_node("a").size() == 2);
  CHECK(f.store.services_by_name().size() == 2);
}

TEST_CASE("entity indexes move only for what changed") {
  StoreFixture f;
  f.apply({PutNode{make_node("a")}, PutService{make_service("a", "web", "web")},
           PutService{make_service("a", "db", "db")}});
  uint64_t db_before = f.store.index_of(service_key("db"));
  f.apply({PutCheck{make_check("a", "web-check", "web", "web")}});
  CHECK(f.store.index_of(service_key("web")) == 2);
  CHECK(f.store.index_of(service_key("db")) == db_before);
  // A node-level check changes the health of every service on the node.
  f.apply({PutCheck{make_check("a", "node-check")}});
  CHECK(f.store.index_of(service_key("db")) == 3);
  CHECK(f.store.node_result_index("a") == 3);
}

TEST_CASE("watches fire once for touched keys only") {
  StoreFixture f;
  f.apply({PutNode{make_node("a")}, PutService{make_service("a", "web", "web")},
           PutService{make_service("a", "db", "db")}});
  int web_fired = 0, db_fired = 0;
  f.store.watch({service_key("web")}, [&] { web_fired++; });
  auto db_watch = f.store.watch({service_key("db")}, [&] { db_fired++; });
  f.apply({PutCheck{make_check("a", "c1", "web", "web")}});
  CHECK(web_fired == 1);
  CHECK(db_fired == 0);
  f.apply({PutCheck{make_check("a", "c2", "web", "web")}});
  CHECK(web_fired == 1);  // one-shot
  f.store.unwatch(db_watch);
  f.apply({PutService{make_service("a", "db", "db2")}});
  CHECK(db_fired == 0);
  CHECK(f.store.watch_count() == 0);
}

TEST_CASE("a watcher on several keys fires once per batch") {
  StoreFixture f;
  int fired = 0;
  f.store.watch({std::string(kNodesTable), node_key("a")}, [&] { fired++; });
  f.apply({PutNode{make_node("a")}});
  CHECK(fired == 1);
}

TEST_CASE("checks are indexed by instance, node and service name") {
  StoreFixture f;
  f.apply({PutNode{make_node("a")}, PutService{make_service("a", "web1", "web")},
           PutCheck{make_check("a", "serfHealth")},
           PutCheck{make_check("a", "service:web1", "web1", "web")}});
  CHECK(f.store.node_checks("a").size() == 1);
  CHECK(f.store.instance_checks("a", "web1").size() == 1);
  CHECK(f.store.checks_of_node("a").size() == 2);
  CHECK(f.store.checks_of_service("web").size() == 1);
  f.apply({DeleteCheck{"a", "service:web1"}});
  CHECK(f.store.checks_of_service("web").empty());
  CHECK(f.store.instance_checks("a", "web1").empty());
}

TEST_CASE("check indexes keep key order and follow a check to another service") {
  StoreFixture f;
  f.apply({PutNode{make_node("b")}, PutNode{make_node("a")},
           PutService{make_service("a", "web1", "web")},
           PutService{make_service("b", "web2", "web")},
           PutService{make_service("a", "db1", "db")}});
  f.apply({PutCheck{make_check("b", "c2", "web2", "web")},
           PutCheck{make_check("a", "c3", "web1", "web")},
           PutCheck{make_check("a", "c1", "web1", "web")}});
  auto ids = [](const std::vector<const Check*>& checks) {
    std::vector<std::string> out;
    for (const Check* c : checks) out.push_back(c->node + "/" + c->check_id);
    return out;
  };
  // By (node, check ID), whatever the order of registration.
  CHECK(ids(f.store.checks_of_service("web")) == std::vector<std::string>{"a/c1", "a/c3", "b/c2"});
  CHECK(ids(f.store.instance_checks("a", "web1")) == std::vector<std::string>{"a/c1", "a/c3"});

  // A status change leaves the check where it is, with its new status.
  Check warn = make_check("a", "c3", "web1", "web");
  warn.status = kWarning;
  f.apply({PutCheck{warn}});
  REQUIRE(f.store.instance_checks("a", "web1").size() == 2);
  CHECK(f.store.instance_checks("a", "web1")[1]->status == kWarning);

  // Moved to another service: out of the old indexes, into the new ones.
  f.apply({PutCheck{make_check("a", "c3", "db1", "db")}});
  CHECK(ids(f.store.checks_of_service("web")) == std::vector<std::string>{"a/c1", "b/c2"});
  CHECK(ids(f.store.instance_checks("a", "web1")) == std::vector<std::string>{"a/c1"});
  CHECK(ids(f.store.checks_of_service("DB")) == std::vector<std::string>{"a/c3"});
  CHECK(ids(f.store.instance_checks("A", "db1")) == std::vector<std::string>{"a/c3"});

  // Deleting the node drops its checks from every index.
  f.apply({DeleteNode{"a"}});
  CHECK(ids(f.store.checks_of_service("web")) == std::vector<std::string>{"b/c2"});
  CHECK(f.store.checks_of_service("db").empty());
  CHECK(f.store.instance_checks("a", "web1").empty());
}

TEST_CASE("deleting the last instance drops the service index back to the tables") {
  StoreFixture f;
  f.apply({PutNode{make_node("a")}, PutService{make_service("a", "web", "web")}});
  f.apply({DeleteService{"a", "web"}});
  CHECK(f.store.index_of(service_key("web")) == 0);
  CHECK(f.store.service_result_index("web") == 2);
  CHECK(f.store.service_instances("web").empty());
}

TEST_CASE("plan_register validates and skips unchanged rows") {
  StoreFixture f;
  RegisterRequest req;
  req.node = "ext";
  req.address = "192.0.2.1";
  Service s;
  s.name = "db";
  s.port = 5432;
  req.service = s;
  Check c;
  c.name = "db alive";
  c.service_id = "db";
  req.checks.push_back(c);
  Batch b;
  REQUIRE(plan_register(f.store, req, b) == "");
  CHECK(b.size() == 3);
  f.apply(b);
  const Check* stored = f.store.check("ext", "db alive");
  REQUIRE(stored);
  CHECK(stored->status == kCritical);
  CHECK(stored->service_name == "db");

  Batch again;
  REQUIRE(plan_register(f.store, req, again) == "");
  CHECK(again.empty());

  RegisterRequest bad = req;
  bad.address.clear();
  Batch none;
  CHECK(plan_register(f.store, bad, none) == "Must provide address");
  bad = req;
  bad.checks[0].service_id = "nope";
  CHECK(plan_register(f.store, bad, none).find("unknown service ID") != std::string::npos);
  CHECK(none.empty());
}

TEST_CASE("retagging a service refreshes its checks' copies") {
  StoreFixture f;
  f.apply({PutNode{make_node("a")}, PutService{make_service("a", "web", "web")},
           PutCheck{make_check("a", "c", "web", "web")}});
  Service s = make_service("a", "web", "web");
  s.tags = {"v2"};
  Batch b;
  plan_put_service(f.store, s, b);
  REQUIRE(b.size() == 2);
  f.apply(b);
  CHECK(f.store.check("a", "c")->service_tags == std::vector<std::string>{"v2"});
}

TEST_CASE("deregistering a node cascades over its services and checks") {
  StoreFixture f;
  f.apply({PutNode{make_node("a")}, PutService{make_service("a", "web", "web")},
           PutCheck{make_check("a", "c", "web", "web")}, PutCheck{make_check("a", "n")}});
  Batch b;
  REQUIRE(plan_deregister(f.store, {"a", "", ""}, b) == "");
  CHECK(b.size() == 4);
  f.apply(b);
  CHECK(f.store.nodes().empty());
  CHECK(f.store.checks().empty());
  CHECK(f.store.service_instances("web").empty());
}

KVEntry kv_entry(std::string key, std::string value) {
  KVEntry e;
  e.key = std::move(key);
  e.value = std::move(value);
  return e;
}

TEST_CASE("a snapshot replaces the tables, keeps row indexes and never lowers an index") {
  Store st;
  st.apply(std::vector<Mutation>{PutNode{make_node("old")}, PutKV{kv_entry("gone", "x")}}, 5);
  bool woke = false;
  st.watch({std::string(kKVTable)}, [&] { woke = true; });

  Node n = make_node("web-1");
  n.raft = {3, 7};
  Service s = make_service("web-1", "web", "web");
  s.raft = {4, 9};
  Check c = make_check("web-1", "alive", "web", "web");
  c.raft = {4, 8};
  KVEntry e = kv_entry("a/b", "v");
  e.raft = {2, 6};
  // Rows arrive in etcd's key order (checks before nodes): load order must not matter.
  std::vector<Mutation> rows{PutCheck{c}, PutKV{e}, PutNode{n}, PutService{s},
                             SetLockDelay{"a/b", 1234}};
  st.load_snapshot(rows, 12);

  CHECK(woke);  // every parked watcher wakes once and re-reads
  CHECK(st.index() == 12);
  CHECK(st.node("old") == nullptr);
  CHECK(st.kv("gone") == nullptr);
  REQUIRE(st.node("web-1") != nullptr);
  CHECK(st.node("web-1")->raft.create_index == 3);
  CHECK(st.node("web-1")->raft.modify_index == 7);
  REQUIRE(st.service("web-1", "web") != nullptr);
  CHECK(st.service("web-1", "web")->raft.modify_index == 9);
  CHECK(st.checks_of_service("web").size() == 1);
  CHECK(st.kv("a/b")->raft.modify_index == 6);
  CHECK(st.lock_delay_until("a/b") == 1234);
  // The floor: a table's index is at least the list's revision, even if empty now.
  CHECK(st.table_index({kKVTable}) >= 12);
  CHECK(st.table_index({kSessionsTable}) >= 12);
  // Later changes apply on top at later revisions.
  st.apply(std::vector<Mutation>{DeleteKV{"a/b"}}, 13);
  CHECK(st.kv("a/b") == nullptr);
  CHECK(st.kv_prefix_index("a/") == 13);
}

TEST_CASE("a snapshot below what the store has shown keeps the store's index") {
  Store st;
  st.apply(std::vector<Mutation>{PutNode{make_node("a")}}, 20);
  st.load_snapshot({}, 15);
  CHECK(st.index() == 20);
  CHECK(st.table_index({kNodesTable}) == 20);
}

TEST_CASE("ended lock delays can be forgotten; running ones stay") {
  Store st;
  st.apply(std::vector<Mutation>{SetLockDelay{"a", 1000}, SetLockDelay{"b", 5000}}, 1);
  st.forget_lock_delays(2000);
  CHECK(st.lock_delay_until("a") == 0);
  CHECK(st.lock_delay_until("b") == 5000);
  CHECK(st.index() == 1);  // local clean-up, not a change clients see
}
