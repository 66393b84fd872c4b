#include "agent/state/catalog_replica.h"

#include <doctest/doctest.h>

using namespace cairn::state;

namespace {

// The owner's catalog as a batch: nodes, services, checks, queries and some KV.
Batch owner_writes() {
  Node n;
  n.name = "web-1";
  n.address = "10.0.0.7";
  Service s;
  s.node = "web-1";
  s.id = "web";
  s.name = "web";
  s.port = 80;
  Check c;
  c.node = "web-1";
  c.check_id = "web-ok";
  c.service_id = "web";
  c.status = kCritical;
  PreparedQuery q;
  q.id = "q1";
  q.name = "nearest-web";
  q.service.service = "web";
  KVEntry kv;
  kv.key = "config/x";
  kv.value = "1";
  return {PutNode{n}, PutService{s}, PutCheck{c}, PutPreparedQuery{q}, PutKV{kv}};
}

}  // namespace

TEST_CASE("a replica seeded from the snapshot and fed the owner's batches reads the same") {
  Store owner;
  owner.apply(owner_writes(), 5);

  Store replica;
  replica.apply(catalog_snapshot(owner), owner.index());
  owner.set_apply_listener([&](std::span<const Mutation> batch, uint64_t index) {
    Batch catalog;
    for (const auto& m : batch)
      if (is_catalog_mutation(m)) catalog.push_back(m);
    if (!catalog.empty()) replica.apply(catalog, index);
  });
  CHECK(replica.nodes().size() == 1);
  REQUIRE(replica.service("web-1", "web"));
  CHECK(replica.check("web-1", "web-ok")->status == kCritical);
  CHECK(replica.prepared_query_by_name("nearest-web"));
  CHECK(replica.kvs().empty());  // KV is not the catalog

  Check passing = *owner.check("web-1", "web-ok");
  passing.status = kPassing;
  owner.apply(Batch{PutCheck{passing}}, 6);
  CHECK(replica.check("web-1", "web-ok")->status == kPassing);
  owner.apply(Batch{DeleteKV{"config/x"}}, 7);  // nothing for the replica
  CHECK(replica.index() == 6);
  owner.apply(Batch{DeleteNode{"web-1"}}, 8);
  CHECK(replica.nodes().empty());
  CHECK(replica.service_instances("web").empty());
  CHECK(replica.index() == 8);
}

TEST_CASE("only catalog mutations are replicated") {
  CHECK(is_catalog_mutation(Mutation{DeleteService{"n", "s"}}));
  CHECK(is_catalog_mutation(Mutation{DeletePreparedQuery{"q"}}));
  CHECK_FALSE(is_catalog_mutation(Mutation{PutKV{}}));
  CHECK_FALSE(is_catalog_mutation(Mutation{PutSession{}}));
  CHECK_FALSE(is_catalog_mutation(Mutation{SetLockDelay{"k", 1}}));
  CHECK_FALSE(is_catalog_mutation(Mutation{ReapTombstones{3}}));
}
