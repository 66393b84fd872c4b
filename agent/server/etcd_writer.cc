#include "agent/server/etcd_writer.h"

#include <set>

#include "agent/etcd/gateway_decode.h"
#include "agent/etcd/gateway_encode.h"
#include "agent/server/etcd_rows.h"
#include "common/log.h"

namespace cairn::server {

namespace {

int64_t rev(const state::RaftIndex& r) { return static_cast<int64_t>(r.modify_index); }

// Adds a guard on key at the revision the cache holds, once per key.
class GuardSet {
 public:
  void add(std::string key, int64_t mod_revision) {
    if (keys_.insert(key).second) guards_.push_back({std::move(key), mod_revision});
  }
  std::vector<ReadGuard> take() { return std::move(guards_); }

 private:
  std::set<std::string> keys_;
  std::vector<ReadGuard> guards_;
};

// A guard on the row at key, at the revision the cache holds (0: absent).
template <typename Row>
void guard(GuardSet& g, std::string key, const Row* row) {
  g.add(std::move(key), row ? rev(row->raft) : 0);
}

void guard_node(const state::Store& store, std::string_view name, GuardSet& g) {
  guard(g, node_row_key(name), store.node(name));
}

// The guard of the row m writes, then those of the rows that row needs.
void guard_mutation(const state::Store& store, const state::Mutation& m, GuardSet& g) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, state::PutNode>) {
          guard_node(store, x.node.name, g);
        } else if constexpr (std::is_same_v<T, state::DeleteNode>) {
          guard_node(store, x.name, g);
        } else if constexpr (std::is_same_v<T, state::PutService>) {
          guard(g, service_row_key(x.service.node, x.service.id),
                store.service(x.service.node, x.service.id));
          guard_node(store, x.service.node, g);
        } else if constexpr (std::is_same_v<T, state::DeleteService>) {
          guard(g, service_row_key(x.node, x.id), store.service(x.node, x.id));
        } else if constexpr (std::is_same_v<T, state::PutCheck>) {
          guard(g, check_row_key(x.check.node, x.check.check_id),
                store.check(x.check.node, x.check.check_id));
          guard_node(store, x.check.node, g);
        } else if constexpr (std::is_same_v<T, state::DeleteCheck>) {
          guard(g, check_row_key(x.node, x.id), store.check(x.node, x.id));
        } else if constexpr (std::is_same_v<T, state::PutKV>) {
          guard(g, kv_row_key(x.entry.key), store.kv(x.entry.key));
          // A lock is only as good as its session: destroyed elsewhere, the acquire must fail.
          if (!x.entry.session.empty())
            guard(g, session_row_key(x.entry.session), store.session(x.entry.session));
        } else if constexpr (std::is_same_v<T, state::DeleteKV>) {
          guard(g, kv_row_key(x.key), store.kv(x.key));
        } else if constexpr (std::is_same_v<T, state::PutSession>) {
          guard(g, session_row_key(x.session.id), store.session(x.session.id));
          guard_node(store, x.session.node, g);
        } else if constexpr (std::is_same_v<T, state::DeleteSession>) {
          guard(g, session_row_key(x.id), store.session(x.id));
        } else if constexpr (std::is_same_v<T, state::PutPreparedQuery>) {
          guard(g, query_row_key(x.query.id), store.prepared_query(x.query.id));
        } else if constexpr (std::is_same_v<T, state::DeletePreparedQuery>) {
          guard(g, query_row_key(x.id), store.prepared_query(x.id));
        } else if constexpr (std::is_same_v<T, state::PutAutopilotConfig>) {
          // The CAS of ?cas= holds in etcd, not only in this cache.
          guard(g, autopilot_row_key(), store.autopilot_config());
        }
        // Lock-delay markers are written blind; tombstone reaping is local.
      },
      m);
}

bool outcome_may_be_applied(const std::string& message) {
  return message.find("timed out") != std::string::npos ||
         message.find("leader changed") != std::string::npos ||
         message.find("deadline") != std::string::npos;
}

}  // namespace

std::vector<ReadGuard> guards_for(const state::Store& store, const state::Batch& batch) {
  GuardSet g;
  for (const auto& m : batch) guard_mutation(store, m, g);
  return g.take();
}

TxnOutcome classify_txn_answer(const etcd::CallResult& result) {
  using Kind = TxnOutcome::Kind;
  switch (result.transport) {
    case etcd::CallResult::Transport::ok:
      break;
    case etcd::CallResult::Transport::connect_failed:
      return {Kind::not_applied, 0, "the local etcd member is not reachable: " + result.detail};
    case etcd::CallResult::Transport::timed_out:
      return {Kind::unknown, 0, "etcd did not answer in time"};
    case etcd::CallResult::Transport::closed:
    case etcd::CallResult::Transport::bad_response:
      return {Kind::unknown, 0, "the connection to etcd broke: " + result.detail};
  }
  etcd::TxnResponse resp;
  etcd::DecodeStatus st = etcd::decode_txn(result.body, resp);
  if (st.code == etcd::DecodeStatus::Code::rpc_error) {
    switch (st.grpc_code) {
      case etcd::grpc_code::resource_exhausted:  // reference §7, pitfall 12
        return {Kind::not_applied, 0,
                "the datacenter's store is full (etcd NOSPACE alarm: " + st.message +
                    "); reads still work, writes fail until space is freed and the alarm is "
                    "disarmed (docs/operations.md)"};
      case etcd::grpc_code::invalid_argument:
      case etcd::grpc_code::failed_precondition:
        return {Kind::not_applied, 0, "etcd refused the write: " + st.message};
      case etcd::grpc_code::unavailable:
        if (!outcome_may_be_applied(st.message))
          return {Kind::not_applied, 0, "etcd cannot take writes: " + st.message};
        break;
      default:
        break;
    }
    return {Kind::unknown, 0, "etcd: " + st.message};
  }
  if (!st.ok() || result.http_status != 200)
    return {Kind::unknown, 0, "an etcd answer cairn cannot read: " + st.message};
  auto revision = static_cast<uint64_t>(resp.header.revision);
  if (resp.succeeded) return {Kind::committed, revision, {}};
  return {Kind::guards_failed, revision, {}};
}

EtcdWriter::EtcdWriter(state::Store& store, etcd::GatewayClient& client, AppliedRevision& applied,
                       Clock wall_clock_ms, Settings settings)
    : store_(store),
      client_(client),
      applied_(applied),
      now_ms_(std::move(wall_clock_ms)),
      settings_(settings) {}

void EtcdWriter::write(Plan plan, WriteDone done) {
  run(std::make_shared<Attempt>(Attempt{std::move(plan), std::move(done), 0, {}, {}}));
}

void EtcdWriter::write_fenced(Plan plan, WriteDone done, etcd::LeaderKey fence,
                              std::function<bool()> still_leader) {
  run(std::make_shared<Attempt>(
      Attempt{std::move(plan), std::move(done), 0, std::move(fence), std::move(still_leader)}));
}

void EtcdWriter::finish(const std::shared_ptr<Attempt>& a, WriteResult r) {
  if (r.index == 0) r.index = store_.index();
  if (a->done) a->done(r);
}

void EtcdWriter::run(std::shared_ptr<Attempt> a) {
  ++a->tries;
  state::Batch batch;
  PlanStatus status = plan_write(a->plan, store_, now_ms_(), batch);
  if (!status.ok()) {
    finish(a, WriteResult::failure(status.code, std::move(status.message)));
    return;
  }
  // Tombstones are each cache's own (etcd keeps none): reap them here.
  std::erase_if(batch, [this](const state::Mutation& m) {
    const auto* reap = std::get_if<state::ReapTombstones>(&m);
    if (reap) store_.reap_tombstones(reap->up_to_index);
    return reap != nullptr;
  });
  if (batch.empty()) {
    finish(a, WriteResult::success(store_.index()));
    return;
  }
  TxnBuild build = build_txn(batch, guards_for(store_, batch));
  if (!build.ok()) {
    finish(a, WriteResult::failure(WriteCode::invalid, std::move(build.error)));
    return;
  }
  if (a->fence) {
    etcd::Compare still_ours;
    still_ours.key = a->fence->key;
    still_ours.target = etcd::Compare::Target::create;
    still_ours.number = a->fence->rev;
    build.txn.compare.push_back(std::move(still_ours));
  }
  std::string body;
  etcd::encode_txn(body, build.txn);
  // Sessions with a TTL live on etcd leases: new ones need theirs first,
  // destroyed ones give theirs back once the transaction has committed.
  std::vector<Lease> grant;
  std::vector<int64_t> revoke;
  for (const auto& m : batch) {
    if (const auto* put = std::get_if<state::PutSession>(&m)) {
      if (put->session.ttl > 0 && store_.session(put->session.id) == nullptr)
        grant.push_back({session_lease_id(put->session.id),
                         session_lease_ttl_seconds(put->session.ttl)});
    } else if (const auto* del = std::get_if<state::DeleteSession>(&m)) {
      const state::Session* s = store_.session(del->id);
      if (s != nullptr && s->ttl > 0) revoke.push_back(session_lease_id(del->id));
    }
  }
  grant_then_commit(std::move(a), std::move(grant), std::move(body), std::move(revoke));
}

void EtcdWriter::grant_then_commit(std::shared_ptr<Attempt> a, std::vector<Lease> leases,
                                   std::string body, std::vector<int64_t> revoke) {
  if (leases.empty()) {
    commit(std::move(a), std::move(body), std::move(revoke));
    return;
  }
  Lease next = leases.back();
  leases.pop_back();
  std::string grant;
  etcd::encode_lease_grant(grant, next.ttl_seconds, next.id);
  client_.call(
      "/v3/lease/grant", std::move(grant), settings_.call_timeout_ms,
      [this, a, leases = std::move(leases), body = std::move(body), revoke = std::move(revoke),
       alive = alive_](etcd::CallResult r) mutable {
        if (!*alive) return;
        etcd::LeaseGrantResponse granted;
        etcd::DecodeStatus st = r.transport == etcd::CallResult::Transport::ok
                                    ? etcd::decode_lease_grant(r.body, granted)
                                    : etcd::DecodeStatus::bad(r.detail);
        // A retried create finds its lease granted already: the same lease, fine.
        std::string why = st.ok() ? granted.error : st.message;
        bool exists = why.find("already exists") != std::string::npos;
        if (!exists && (!st.ok() || !r.ok() || !granted.error.empty())) {
          ++counters_.unavailable;
          finish(a, WriteResult::failure(WriteCode::unavailable,
                                         "cannot create the session's etcd lease: " +
                                             (why.empty() ? r.detail : why)));
          return;
        }
        grant_then_commit(std::move(a), std::move(leases), std::move(body), std::move(revoke));
      });
}

void EtcdWriter::commit(std::shared_ptr<Attempt> a, std::string body,
                        std::vector<int64_t> revoke) {
  client_.call("/v3/kv/txn", std::move(body), settings_.call_timeout_ms,
               [this, a, revoke = std::move(revoke), alive = alive_](etcd::CallResult r) mutable {
                 if (*alive) on_committed(a, std::move(r), std::move(revoke));
               });
}

// The session rows are gone already; their leases would only expire later.
void EtcdWriter::revoke_leases(const std::vector<int64_t>& leases) {
  for (int64_t lease : leases) {
    std::string body;
    etcd::encode_lease_revoke(body, lease);
    client_.call("/v3/lease/revoke", std::move(body), settings_.call_timeout_ms,
                 [](etcd::CallResult) {});
  }
}

void EtcdWriter::on_committed(std::shared_ptr<Attempt> a, etcd::CallResult result,
                              std::vector<int64_t> revoke) {
  TxnOutcome out = classify_txn_answer(result);
  switch (out.kind) {
    case TxnOutcome::Kind::committed:
      ++counters_.commits;
      revoke_leases(revoke);
      // Read-your-writes: answer once this server's cache holds the write.
      applied_.when_applied(out.revision, settings_.catch_up_ms,
                            [this, a, revision = out.revision, alive = alive_](bool reached) {
                              if (!*alive) return;
                              if (!reached)
                                log::warn("server", "the watch cache is behind a committed write",
                                          {{"revision", std::to_string(revision)}});
                              finish(a, WriteResult::success(revision));
                            });
      return;
    case TxnOutcome::Kind::guards_failed:
      ++counters_.conflicts;
      if (a->still_leader && !a->still_leader()) {
        finish(a, WriteResult::failure(WriteCode::unavailable,
                                       "this server is no longer the cairn leader"));
        return;
      }
      if (a->tries >= settings_.max_attempts) {
        finish(a, WriteResult::failure(WriteCode::conflict,
                                       "the rows this write depends on kept changing (" +
                                           std::to_string(a->tries) + " attempts)"));
        return;
      }
      // Someone else wrote first: plan again once the cache shows what they wrote.
      applied_.when_applied(out.revision, settings_.catch_up_ms,
                            [this, a, alive = alive_](bool) {
                              if (*alive) run(a);
                            });
      return;
    case TxnOutcome::Kind::not_applied:
      ++counters_.unavailable;
      finish(a, WriteResult::failure(WriteCode::unavailable, std::move(out.message)));
      return;
    case TxnOutcome::Kind::unknown:
      ++counters_.unknown;
      finish(a, WriteResult::failure(
                    WriteCode::unknown_outcome,
                    out.message + "; the write may or may not have been applied"));
      return;
  }
}

}  // namespace cairn::server
