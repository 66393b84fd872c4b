// A store's tables become snapshot records and come back as the same rows;
// records a snapshot may not hold are refused.
#include "agent/snapshot/snapshot_rows.h"

#include <doctest/doctest.h>

#include "agent/server/catalog_writer.h"

using namespace cairn;
using namespace cairn::snapshot;

namespace {

state::Store filled_store() {
  state::Node n;
  n.name = "Web-1";
  n.address = "10.0.0.1";
  n.meta = {{"rack", "r1"}};
  state::Service s;
  s.node = "Web-1";
  s.id = "api/1";
  s.name = "api";
  s.port = 8080;
  s.tags = {"v1"};
  state::Check c;
  c.node = "Web-1";
  c.check_id = "service:api/1";
  c.service_id = "api/1";
  c.status = state::kPassing;
  state::Session sess;
  sess.id = "5e1ba3b8-7b8f-4c7e-9f2a-0a4f0e6b1c2d";
  sess.node = "Web-1";
  sess.ttl = 30'000'000'000;
  state::KVEntry e;
  e.key = "locks/a";
  e.value = std::string("\0binary\xff", 8);
  e.session = sess.id;
  e.lock_index = 3;
  e.flags = 9;
  state::Store store;
  store.apply(
      std::vector<state::Mutation>{state::PutNode{n}, state::PutService{s}, state::PutCheck{c},
                                   state::PutSession{sess}, state::PutKV{e}},
      7);
  return store;
}

}  // namespace

TEST_CASE("snapshot rows: every table round-trips through the file") {
  state::Store store = filled_store();
  Snapshot s = snapshot_of(store, Meta{});
  CHECK(s.meta.index == 7);
  CHECK(s.records.size() == 5);
  Snapshot back;
  REQUIRE(decode(encode(s), {}, back).ok());
  state::Batch rows;
  Status st = rows_of(back, rows);
  REQUIRE_MESSAGE(st.ok(), st.message);
  REQUIRE(rows.size() == 5);

  // Restored into a fresh store at a new index, the rows are the same and
  // carry the new index (DevWriter's restore).
  state::Store restored;
  restored.apply({}, 20);
  server::DevWriter writer(restored, [] { return int64_t{0}; });
  uint64_t at = 0;
  writer.restore(rows, [&](const server::WriteResult& r) {
    CHECK(r.ok());
    at = r.index;
  });
  CHECK(at == 21);
  CHECK(restored.index() == 21);
  const state::KVEntry* kv = restored.kv("locks/a");
  REQUIRE(kv != nullptr);
  CHECK(kv->value == std::string("\0binary\xff", 8));
  CHECK(kv->lock_index == 3);
  CHECK(kv->flags == 9);
  CHECK(kv->raft.modify_index == 21);
  REQUIRE(restored.session("5e1ba3b8-7b8f-4c7e-9f2a-0a4f0e6b1c2d") != nullptr);
  CHECK(restored.session("5e1ba3b8-7b8f-4c7e-9f2a-0a4f0e6b1c2d")->ttl == 30'000'000'000);
  REQUIRE(restored.service("web-1", "api/1") != nullptr);
  CHECK(restored.service("web-1", "api/1")->port == 8080);
  CHECK(restored.check("web-1", "service:api/1") != nullptr);
  CHECK(restored.node("web-1")->meta.at("rack") == "r1");
  CHECK(restored.keys_held_by("5e1ba3b8-7b8f-4c7e-9f2a-0a4f0e6b1c2d").size() == 1);
}

TEST_CASE("snapshot rows: a restore replaces what was there and wakes watchers") {
  state::Store store = filled_store();
  Snapshot s = snapshot_of(store, Meta{});
  state::Batch rows;
  REQUIRE(rows_of(s, rows).ok());
  state::KVEntry extra;
  extra.key = "later";
  store.apply(std::vector<state::Mutation>{state::PutKV{extra}}, 8);
  bool woke = false;
  store.watch({"kv:later"}, [&] { woke = true; });
  server::DevWriter writer(store, [] { return int64_t{0}; });
  writer.restore(rows, {});
  CHECK(woke);
  CHECK(store.kv("later") == nullptr);
  CHECK(store.kv("locks/a") != nullptr);
  CHECK(store.index() == 9);
  CHECK(store.kv_key_index("later") >= 9);  // indexes never go backwards
}

TEST_CASE("snapshot rows: records a snapshot may not hold are refused") {
  auto refused = [](std::vector<Record> records) {
    Snapshot s;
    s.records = std::move(records);
    state::Batch rows;
    Status st = rows_of(s, rows);
    CHECK(st.code == ErrorCode::malformed);
    CHECK(rows.empty());
  };
  refused({{"/cairn/kv/a", "not json"}});
  refused({{"/cairn/kv/a", R"({"Value":"aGk="})"}, {"/cairn/kv/a", R"({"Value":"aGk="})"}});
  refused({{"/cairn/leader/abc", "{}"}});
  refused({{"/cairn/lockdelay/a", R"({"Until":1})"}});
  refused({{"/cairn/nosuch/a", "{}"}});
  refused({{"/cairn/node/web-2", R"({"Node":"web-1"})"}});  // the key names another node
}
