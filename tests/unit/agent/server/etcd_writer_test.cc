// The pure parts of the etcd writer: which rows guard a batch, and what an
// etcd answer to a write means. The writer itself runs against real members
// in tests/integration/test_servers.py.
#include "agent/server/etcd_writer.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "agent/server/etcd_rows.h"

using namespace cairn;
using namespace cairn::server;

namespace {

int64_t guard_of(const std::vector<ReadGuard>& guards, const std::string& key) {
  auto it = std::find_if(guards.begin(), guards.end(),
                         [&](const ReadGuard& g) { return g.key == key; });
  REQUIRE(it != guards.end());
  return it->mod_revision;
}

etcd::CallResult answer(int status, std::string body) {
  etcd::CallResult r;
  r.http_status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

TEST_CASE("a batch is guarded by the rows it writes and the rows they depend on") {
  state::Store st;
  state::Node n;
  n.name = "web-1";
  state::Session sess;
  sess.id = "11111111-2222-3333-4444-555555555555";
  sess.node = "web-1";
  st.apply(std::vector<state::Mutation>{state::PutNode{n}}, 4);
  st.apply(std::vector<state::Mutation>{state::PutSession{sess}}, 6);

  state::Service svc;
  svc.node = "web-1";
  svc.id = "web";
  svc.name = "web";
  state::KVEntry lock;
  lock.key = "locks/a";
  lock.session = sess.id;
  auto guards = guards_for(st, {state::PutService{svc}, state::PutKV{lock},
                                state::PutService{svc}});
  CHECK(guards.size() == 4);  // each key once
  CHECK(guard_of(guards, service_row_key("web-1", "web")) == 0);  // absent: CREATE == 0
  CHECK(guard_of(guards, node_row_key("web-1")) == 4);
  CHECK(guard_of(guards, kv_row_key("locks/a")) == 0);
  CHECK(guard_of(guards, session_row_key(sess.id)) == 6);
  // Lock-delay markers and tombstone reaping guard nothing.
  CHECK(guards_for(st, {state::SetLockDelay{"k", 1}, state::ReapTombstones{3}}).empty());
}

TEST_CASE("etcd's answers to a write are classified without guessing") {
  using Kind = TxnOutcome::Kind;
  auto ok = classify_txn_answer(answer(200, R"({"header":{"revision":"42"},"succeeded":true})"));
  CHECK(ok.kind == Kind::committed);
  CHECK(ok.revision == 42);
  auto lost = classify_txn_answer(answer(200, R"({"header":{"revision":"43"}})"));
  CHECK(lost.kind == Kind::guards_failed);
  CHECK(lost.revision == 43);
  // Refused before any proposal: nothing was applied.
  CHECK(classify_txn_answer(answer(503, R"({"error":"etcdserver: no leader","code":14,"message":"etcdserver: no leader"})"))
            .kind == Kind::not_applied);
  CHECK(classify_txn_answer(answer(500, R"({"error":"etcdserver: mvcc: database space exceeded","code":8,"message":"etcdserver: mvcc: database space exceeded"})"))
            .kind == Kind::not_applied);
  // Proposed, then no answer: it may have been applied.
  CHECK(classify_txn_answer(answer(503, R"({"error":"etcdserver: request timed out","code":14,"message":"etcdserver: request timed out"})"))
            .kind == Kind::unknown);
  etcd::CallResult timed_out;
  timed_out.transport = etcd::CallResult::Transport::timed_out;
  CHECK(classify_txn_answer(timed_out).kind == Kind::unknown);
  etcd::CallResult refused;
  refused.transport = etcd::CallResult::Transport::connect_failed;
  CHECK(classify_txn_answer(refused).kind == Kind::not_applied);
  CHECK(classify_txn_answer(answer(200, "not json")).kind == Kind::unknown);
}
