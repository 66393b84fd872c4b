#include "agent/state/kv_ops.h"

#include <doctest/doctest.h>

#include "agent/state/session_ops.h"

using namespace cairn::state;

namespace {

struct KvFixture {
  Store store;
  int64_t now = 1'000'000;
  TxnPlan run(std::vector<KVOp> ops) {
    TxnPlan p = plan_kv_txn(store, ops, now);
    if (p.ok() && !p.batch.empty()) store.apply(p.batch, store.index() + 1);
    return p;
  }
  void session(const std::string& id, const std::string& behavior = kBehaviorRelease) {
    if (!store.node("n1")) {
      Node n;
      n.name = "n1";
      n.address = "127.0.0.1";
      store.apply(std::vector<Mutation>{PutNode{n}}, store.index() + 1);
    }
    Session s;
    s.id = id;
    s.node = "n1";
    s.behavior = behavior;
    Batch b;
    REQUIRE(plan_session_create(store, s, b) == "");
    store.apply(b, store.index() + 1);
  }
};

KVOp op(KVVerb v, std::string key, std::string value = "", uint64_t index = 0,
        std::string session = "") {
  KVOp o;
  o.verb = v;
  o.key = std::move(key);
  o.value = std::move(value);
  o.index = index;
  o.session = std::move(session);
  return o;
}

}  // namespace

TEST_CASE("set keeps create index, cas checks modify index") {
  KvFixture f;
  CHECK(f.run({op(KVVerb::set, "a", "1")}).ok());
  uint64_t created = f.store.kv("a")->raft.create_index;
  CHECK(f.run({op(KVVerb::set, "a", "2")}).ok());
  CHECK(f.store.kv("a")->raft.create_index == created);
  uint64_t mod = f.store.kv("a")->raft.modify_index;
  TxnPlan stale = f.run({op(KVVerb::cas, "a", "3", mod - 1)});
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.errors[0].condition);
  CHECK(f.run({op(KVVerb::cas, "a", "3", mod)}).ok());
  CHECK(f.store.kv("a")->value == "3");
  // cas with index 0 creates only if absent.
  CHECK_FALSE(f.run({op(KVVerb::cas, "a", "4", 0)}).ok());
  CHECK(f.run({op(KVVerb::cas, "b", "4", 0)}).ok());
}

TEST_CASE("a transaction is all or nothing and sees its own writes") {
  KvFixture f;
  TxnPlan p = f.run({op(KVVerb::set, "x", "1"), op(KVVerb::get, "x"), op(KVVerb::check_not_exists, "y")});
  CHECK(p.ok());
  TxnPlan bad = f.run({op(KVVerb::set, "y", "1"), op(KVVerb::get, "missing")});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.errors[0].op_index == 1);
  CHECK(bad.errors[0].what == "key \"missing\" doesn't exist");
  CHECK(f.store.kv("y") == nullptr);
  CHECK(bad.batch.empty());
}

TEST_CASE("deletes leave tombstones that keep prefix indexes moving") {
  KvFixture f;
  f.run({op(KVVerb::set, "app/a", "1"), op(KVVerb::set, "app/b", "2")});
  uint64_t before = f.store.kv_prefix_index("app/");
  f.run({op(KVVerb::delete_tree, "app/")});
  CHECK(f.store.kv("app/a") == nullptr);
  CHECK(f.store.kv_prefix_index("app/") > before);
  CHECK(f.store.tombstones().size() == 2);
  f.store.apply(std::vector<Mutation>{ReapTombstones{f.store.index()}}, f.store.index() + 1);
  CHECK(f.store.tombstones().empty());
}

TEST_CASE("prefix watchers wake on puts and deletes beneath the prefix only") {
  KvFixture f;
  int app = 0, other = 0;
  f.store.watch({kv_watch_key("app/")}, [&] { app++; });
  f.store.watch({kv_watch_key("other/")}, [&] { other++; });
  f.run({op(KVVerb::set, "app/x", "1")});
  CHECK(app == 1);
  CHECK(other == 0);
  f.store.watch({kv_watch_key("app/")}, [&] { app++; });
  f.run({op(KVVerb::del, "app/x")});
  CHECK(app == 2);
}

TEST_CASE("a write builds only the watched prefixes of its key, so a long key costs linear work") {
  // Issue 12: every prefix of the key was built to wake watchers, so a 60 KB
  // key cost 1.8 GB of strings and seconds of the loop.
  KvFixture f;
  const std::string key = "deep/" + std::string(60 * 1024, 'k');
  int root = 0, deep = 0, exact = 0, other = 0, longer = 0;
  f.store.watch({kv_watch_key("")}, [&] { root++; });
  f.store.watch({kv_watch_key(key.substr(0, 30000))}, [&] { deep++; });
  f.store.watch({kv_watch_key(key)}, [&] { exact++; });
  f.store.watch({kv_watch_key("deep/kkx")}, [&] { other++; });
  f.store.watch({kv_watch_key(key + "/")}, [&] { longer++; });
  uint64_t built_before = f.store.kv_watch_keys_built();
  f.run({op(KVVerb::set, key, "v")});
  CHECK(root == 1);
  CHECK(deep == 1);
  CHECK(exact == 1);
  CHECK(other == 0);
  CHECK(longer == 0);
  // Three watched prefixes of the key, give or take a hash collision; not 61,446.
  CHECK(f.store.kv_watch_keys_built() - built_before <= 4);

  // The fired watchers are gone; the others still wake on their own keys.
  f.run({op(KVVerb::del, key)});
  CHECK(root == 1);
  CHECK(other == 0);
  f.run({op(KVVerb::set, "deep/kkx/y", "1"), op(KVVerb::set, key + "/z", "2")});
  CHECK(other == 1);
  CHECK(longer == 1);
  CHECK(f.store.watch_count() == 0);
  // With nobody watching, a write builds no watch key at all.
  uint64_t built_idle = f.store.kv_watch_keys_built();
  f.run({op(KVVerb::set, key, "again")});
  CHECK(f.store.kv_watch_keys_built() == built_idle);
}

TEST_CASE("kv prefix watches still fire after unwatch of a twin and on every prefix length") {
  KvFixture f;
  // Two watchers on one prefix: unwatching one must keep the other armed.
  int a = 0, b = 0;
  auto wa = f.store.watch({kv_watch_key("app/")}, [&] { a++; });
  f.store.watch({kv_watch_key("app/")}, [&] { b++; });
  f.store.unwatch(wa);
  f.run({op(KVVerb::set, "app/x", "1")});
  CHECK(a == 0);
  CHECK(b == 1);
  // A watcher on each prefix of a key, including "" and the key itself.
  const std::string key = "a/bc/d";
  std::vector<int> fired(key.size() + 1, 0);
  for (size_t n = 0; n <= key.size(); ++n)
    f.store.watch({kv_watch_key(key.substr(0, n))}, [&fired, n] { fired[n]++; });
  f.run({op(KVVerb::set, key, "v")});
  for (size_t n = 0; n <= key.size(); ++n) CHECK_MESSAGE(fired[n] == 1, "prefix length " << n);
  CHECK(f.store.watch_count() == 0);
}

TEST_CASE("locks: acquire bumps LockIndex once, release keeps it, others are refused") {
  KvFixture f;
  f.session("s1");
  f.session("s2");
  CHECK(f.run({op(KVVerb::lock, "l", "v", 0, "s1")}).ok());
  CHECK(f.store.kv("l")->lock_index == 1);
  CHECK(f.store.kv("l")->session == "s1");
  CHECK(f.run({op(KVVerb::lock, "l", "v2", 0, "s1")}).ok());  // re-acquire by the holder
  CHECK(f.store.kv("l")->lock_index == 1);
  TxnPlan held = f.run({op(KVVerb::lock, "l", "", 0, "s2")});
  REQUIRE_FALSE(held.ok());
  CHECK(held.errors[0].condition);
  CHECK_FALSE(f.run({op(KVVerb::unlock, "l", "", 0, "s2")}).ok());
  CHECK(f.run({op(KVVerb::unlock, "l", "", 0, "s1")}).ok());
  CHECK(f.store.kv("l")->session.empty());
  CHECK(f.store.kv("l")->lock_index == 1);
  CHECK(f.run({op(KVVerb::lock, "l", "", 0, "s2")}).ok());
  CHECK(f.store.kv("l")->lock_index == 2);
  TxnPlan invalid = f.run({op(KVVerb::lock, "m", "", 0, "nope")});
  REQUIRE_FALSE(invalid.ok());
  CHECK_FALSE(invalid.errors[0].condition);
  CHECK(invalid.errors[0].what == "invalid session \"nope\"");
}

TEST_CASE("invalidating a session releases or deletes its keys, then lock-delay applies") {
  KvFixture f;
  f.session("rel");
  f.session("del", kBehaviorDelete);
  f.run({op(KVVerb::lock, "a", "", 0, "rel"), op(KVVerb::lock, "b", "", 0, "del")});
  Batch b;
  plan_session_invalidate(f.store, "rel", f.now, b);
  plan_session_invalidate(f.store, "del", f.now, b);
  f.store.apply(b, f.store.index() + 1);
  CHECK(f.store.kv("a")->session.empty());
  CHECK(f.store.kv("b") == nullptr);
  CHECK(f.store.session("rel") == nullptr);
  f.session("s3");
  CHECK_FALSE(f.run({op(KVVerb::lock, "a", "", 0, "s3")}).ok());  // within the 15 s delay
  f.now += 16'000;
  CHECK(f.run({op(KVVerb::lock, "a", "", 0, "s3")}).ok());
}

TEST_CASE("a critical check invalidates the sessions that name it") {
  KvFixture f;
  Node n;
  n.name = "n1";
  n.address = "127.0.0.1";
  Check serf;
  serf.node = "n1";
  serf.check_id = "serfHealth";
  serf.status = kPassing;
  f.store.apply(std::vector<Mutation>{PutNode{n}, PutCheck{serf}}, f.store.index() + 1);
  Session s;
  s.id = "s";
  s.node = "n1";
  s.node_checks = {"serfHealth"};
  Batch b;
  REQUIRE(plan_session_create(f.store, s, b) == "");
  f.store.apply(b, f.store.index() + 1);
  serf.status = kCritical;
  Batch change{PutCheck{serf}}, effects;
  plan_session_effects(f.store, change, f.now, effects);
  REQUIRE(effects.size() == 1);
  CHECK(std::holds_alternative<DeleteSession>(effects[0]));
  // And a critical check refuses new sessions.
  f.store.apply(change, f.store.index() + 1);
  Batch refused;
  CHECK(plan_session_create(f.store, s, refused) == "Check 'serfHealth' is in critical state");
}
