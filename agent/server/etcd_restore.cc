#include "agent/server/etcd_restore.h"

#include <unordered_map>
#include <unordered_set>

#include "agent/etcd/gateway_decode.h"
#include "agent/etcd/gateway_encode.h"
#include "agent/etcd/member_command.h"
#include "agent/etcd/stream_lines.h"
#include "agent/server/etcd_rows.h"
#include "agent/server/etcd_txn.h"
#include "agent/server/etcd_writer.h"
#include "common/log.h"

namespace cairn::server {

namespace {

constexpr std::string_view kRestoredTables[] = {"node/", "service/", "check/",
                                                "kv/",   "session/", "query/"};
// What etcd adds per operation beyond the key and value bytes.
constexpr size_t kOpOverheadBytes = 16;
// The JSON of one watch event beyond its keys and values (revisions, names).
constexpr size_t kWatchEventOverheadBytes = 200;

// A row the store holds now: its key, the size of its value in etcd (the
// restore's watch event carries it as prev_kv) and its session's lease.
struct CurrentRow {
  std::string key;
  size_t value_bytes = 0;
  int64_t lease = 0;
};

std::vector<CurrentRow> current_rows(const state::Store& store) {
  std::vector<CurrentRow> rows;
  for (const auto& [lc_name, node] : store.nodes()) {
    rows.push_back({node_row_key(node.name), encode_row(node).size()});
    for (const state::Service* svc : store.services_of_node(lc_name))
      rows.push_back({service_row_key(svc->node, svc->id), encode_row(*svc).size()});
  }
  for (const auto& [key, check] : store.checks())
    rows.push_back({check_row_key(check.node, check.check_id), encode_row(check).size()});
  for (const auto& [id, session] : store.sessions())
    rows.push_back({session_row_key(id), encode_row(session).size(),
                    session.ttl > 0 ? session_lease_id(id) : 0});
  for (const auto& [key, entry] : store.kvs())
    rows.push_back({kv_row_key(key), encode_row(entry).size()});
  for (const auto& [id, query] : store.prepared_queries())
    rows.push_back({query_row_key(id), encode_row(query).size()});
  return rows;
}

// The watch message of the restore's revision, as the gateway writes it:
// keys and values in base64, each event with its previous value.
size_t watch_event_bytes(size_t key, size_t value, size_t prev_value) {
  return (key * 2 + value + prev_value) * 4 / 3 + kWatchEventOverheadBytes;
}

}  // namespace

RestoreBuild build_restore_txn(const state::Store& store, const state::Batch& rows) {
  RestoreBuild out;
  for (std::string_view table : kRestoredTables) {
    etcd::Compare unchanged;
    unchanged.key = std::string(kRowPrefix) + std::string(table);
    unchanged.range_end = etcd::prefix_end(unchanged.key);
    unchanged.target = etcd::Compare::Target::mod;
    unchanged.result = etcd::Compare::Result::less;
    unchanged.number = static_cast<int64_t>(store.index()) + 1;
    out.txn.compare.push_back(std::move(unchanged));
  }
  std::vector<CurrentRow> current = current_rows(store);
  std::unordered_map<std::string_view, const CurrentRow*> by_key;
  by_key.reserve(current.size());
  for (const auto& row : current) by_key.emplace(row.key, &row);

  size_t bytes = 0;
  size_t watch_bytes = 0;
  std::unordered_set<std::string> restored;
  restored.reserve(rows.size());
  std::vector<etcd::RequestOp> puts;
  puts.reserve(rows.size());
  for (const auto& m : rows) {
    RowOp op;
    if (!row_op_of(m, op) || op.is_delete) {
      out.code = RestoreBuild::Code::invalid;
      out.error = "a snapshot restores rows, not changes";
      return out;
    }
    if (!restored.insert(op.key).second) {
      out.code = RestoreBuild::Code::invalid;
      out.error = "the snapshot holds " + op.key + " twice";
      return out;
    }
    if (const auto* put = std::get_if<state::PutSession>(&m); put && put->session.ttl > 0)
      out.grant.push_back(
          {session_lease_id(put->session.id), session_lease_ttl_seconds(put->session.ttl)});
    auto prev = by_key.find(op.key);
    bytes += op.key.size() + op.value.size() + kOpOverheadBytes;
    watch_bytes += watch_event_bytes(op.key.size(), op.value.size(),
                                     prev == by_key.end() ? 0 : prev->second->value_bytes);
    puts.emplace_back(etcd::PutRequest{std::move(op.key), std::move(op.value), op.lease, false});
  }
  for (const auto& row : current) {
    if (restored.contains(row.key)) continue;
    bytes += row.key.size() + kOpOverheadBytes;
    watch_bytes += watch_event_bytes(row.key.size(), 0, row.value_bytes);
    out.txn.success.emplace_back(etcd::DeleteRangeRequest{row.key, {}, false});
    if (row.lease != 0) out.revoke.push_back(row.lease);
  }
  for (auto& p : puts) out.txn.success.push_back(std::move(p));
  if (out.txn.success.size() > static_cast<size_t>(etcd::kMemberMaxTxnOps) ||
      bytes > kMaxRestoreRequestBytes || watch_bytes > kMaxRestoreWatchBytes) {
    out.code = RestoreBuild::Code::too_large;
    out.error = "the restore replaces " + std::to_string(out.txn.success.size()) + " rows (" +
                std::to_string(bytes) + " bytes to write, " + std::to_string(watch_bytes) +
                " bytes of watch events); a server restores at most " +
                std::to_string(kMaxRestoreRequestBytes) + " and " +
                std::to_string(kMaxRestoreWatchBytes) +
                " bytes in its one etcd transaction (docs/snapshot.md)";
    out.txn = {};
    out.grant.clear();
    out.revoke.clear();
  }
  return out;
}

static_assert(kMaxRestoreWatchBytes < etcd::StreamLines::kDefaultMaxLine);

// ---- EtcdWriter::restore ------------------------------------------------------

struct EtcdWriter::RestoreAttempt {
  state::Batch rows;
  WriteDone done;
  int tries = 0;
};

void EtcdWriter::restore(state::Batch rows, WriteDone done) {
  restore_run(std::make_shared<RestoreAttempt>(RestoreAttempt{std::move(rows), std::move(done)}));
}

void EtcdWriter::restore_finish(const std::shared_ptr<RestoreAttempt>& a, WriteResult r) {
  if (r.index == 0) r.index = store_.index();
  if (a->done) a->done(r);
}

void EtcdWriter::restore_run(std::shared_ptr<RestoreAttempt> a) {
  ++a->tries;
  RestoreBuild build = build_restore_txn(store_, a->rows);
  if (!build.ok()) {
    restore_finish(a, WriteResult::failure(WriteCode::invalid, std::move(build.error)));
    return;
  }
  auto body = std::make_shared<std::string>();
  etcd::encode_txn(*body, build.txn);
  build.txn = {};  // the encoded body is all that is sent: keep one copy
  restore_grant(std::move(a), std::move(build.grant), std::move(body), std::move(build.revoke));
}

void EtcdWriter::restore_grant(std::shared_ptr<RestoreAttempt> a, std::vector<RestoreLease> leases,
                               std::shared_ptr<std::string> body, std::vector<int64_t> revoke) {
  if (leases.empty()) {
    restore_commit(std::move(a), std::move(body), std::move(revoke));
    return;
  }
  RestoreLease next = leases.back();
  leases.pop_back();
  std::string grant;
  etcd::encode_lease_grant(grant, next.ttl_seconds, next.id);
  client_.call("/v3/lease/grant", std::move(grant), settings_.call_timeout_ms,
               [this, a, leases = std::move(leases), body = std::move(body),
                revoke = std::move(revoke), alive = alive_](etcd::CallResult r) mutable {
                 if (!*alive) return;
                 etcd::LeaseGrantResponse granted;
                 etcd::DecodeStatus st = r.transport == etcd::CallResult::Transport::ok
                                             ? etcd::decode_lease_grant(r.body, granted)
                                             : etcd::DecodeStatus::bad(r.detail);
                 // The session exists now (or an earlier attempt granted it): its lease stays.
                 std::string why = st.ok() ? granted.error : st.message;
                 if (why.find("already exists") == std::string::npos &&
                     (!st.ok() || !r.ok() || !granted.error.empty())) {
                   ++counters_.unavailable;
                   restore_finish(
                       a, WriteResult::failure(WriteCode::unavailable,
                                               "cannot create a restored session's etcd lease: " +
                                                   (why.empty() ? r.detail : why)));
                   return;
                 }
                 restore_grant(std::move(a), std::move(leases), std::move(body), std::move(revoke));
               });
}

void EtcdWriter::restore_commit(std::shared_ptr<RestoreAttempt> a,
                                std::shared_ptr<std::string> body, std::vector<int64_t> revoke) {
  client_.call(
      "/v3/kv/txn", std::move(*body), settings_.call_timeout_ms,
      [this, a, revoke = std::move(revoke), alive = alive_](etcd::CallResult r) mutable {
        if (!*alive) return;
        TxnOutcome out = classify_txn_answer(r);
        switch (out.kind) {
          case TxnOutcome::Kind::committed:
            ++counters_.commits;
            revoke_leases(revoke);
            applied_.when_applied(out.revision, settings_.catch_up_ms,
                                  [this, a, revision = out.revision, alive = alive_](bool) {
                                    if (*alive) restore_finish(a, WriteResult::success(revision));
                                  });
            return;
          case TxnOutcome::Kind::guards_failed:
            // Another server wrote after this cache's revision: catch up, rebuild.
            ++counters_.conflicts;
            if (a->tries >= settings_.max_attempts) {
              restore_finish(
                  a, WriteResult::failure(WriteCode::conflict,
                                          "the store kept changing during the restore; try again"));
              return;
            }
            applied_.when_applied(out.revision, settings_.catch_up_ms,
                                  [this, a, alive = alive_](bool) {
                                    if (*alive) restore_run(a);
                                  });
            return;
          case TxnOutcome::Kind::not_applied:
            ++counters_.unavailable;
            restore_finish(a, WriteResult::failure(WriteCode::unavailable, out.message));
            return;
          case TxnOutcome::Kind::unknown:
            ++counters_.unknown;
            restore_finish(a, WriteResult::failure(WriteCode::unknown_outcome, out.message));
            return;
        }
      });
}

}  // namespace cairn::server
