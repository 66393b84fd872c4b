#include <doctest/doctest.h>

#include <map>
#include <random>

#include "dnsfwd/inflight.h"

using namespace cairn::dnsfwd;

TEST_CASE("IdTable finds, refuses duplicates, and survives churn with growth") {
  IdTable t(16);
  CHECK(t.insert(IdTable::key(1, 7), 3, 1));
  CHECK_FALSE(t.insert(IdTable::key(1, 7), 4, 0));
  uint32_t txn = 0;
  uint8_t attempt = 0;
  REQUIRE(t.find(IdTable::key(1, 7), txn, attempt));
  CHECK(txn == 3);
  CHECK(attempt == 1);
  CHECK_FALSE(t.find(IdTable::key(2, 7), txn, attempt));

  std::mt19937 rng(42);
  std::map<uint64_t, uint32_t> model = {{IdTable::key(1, 7), 3}};
  for (int i = 0; i < 20000; ++i) {
    uint64_t k = IdTable::key(rng() % 8, static_cast<uint16_t>(rng()));
    if (rng() % 3 == 0 && !model.empty()) {
      auto it = model.lower_bound(k);
      if (it == model.end()) it = model.begin();
      t.erase(it->first);
      model.erase(it);
    } else if (!model.count(k)) {
      CHECK(t.insert(k, static_cast<uint32_t>(i), 0));
      model[k] = static_cast<uint32_t>(i);
    }
  }
  CHECK(t.size() == model.size());
  for (const auto& [k, v] : model) {
    REQUIRE(t.find(k, txn, attempt));
    CHECK(txn == v);
  }
}

TEST_CASE("KeyIndex matches transactions by key") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    InflightPool pool(&loop);
    KeyIndex index(16);
    std::vector<Transaction*> ts;
    for (int i = 0; i < 100; ++i) {
      Transaction* t = pool.acquire();
      t->qname[0] = 1;
      t->qname[1] = static_cast<uint8_t>('a' + i % 26);
      t->qname[2] = 0;
      t->qname_len = 3;
      t->qtype = static_cast<uint16_t>(1 + i / 26);
      t->qclass = 1;
      t->hash = hash_key(t->qname, 3, t->qtype, 1, 0);
      index.insert(*t, pool.all());
      ts.push_back(t);
    }
    for (Transaction* t : ts) CHECK(index.find(t->key(), pool.all()) == t);
    for (int i = 0; i < 100; i += 2) index.erase(*ts[i], pool.all());
    for (int i = 0; i < 100; ++i)
      CHECK((index.find(ts[i]->key(), pool.all()) == ts[i]) == (i % 2 == 1));
    for (Transaction* t : ts) pool.release(t);
    Transaction* again = pool.acquire();  // recycled, with a new generation
    CHECK(again->generation == 1);
    pool.release(again);
  }
  uv_run(&loop, UV_RUN_DEFAULT);  // let the pooled timers close
  CHECK(uv_loop_close(&loop) == 0);
}
