#include "agent/server/etcd_txn.h"

#include <unordered_map>

#include "agent/server/etcd_rows.h"

namespace cairn::server {

bool row_op_of(const state::Mutation& m, RowOp& op) {
  return std::visit(
      [&](const auto& x) -> bool {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, state::PutNode>) {
          op = {node_row_key(x.node.name), false, encode_row(x.node)};
        } else if constexpr (std::is_same_v<T, state::DeleteNode>) {
          op = {node_row_key(x.name), true, {}};
        } else if constexpr (std::is_same_v<T, state::PutService>) {
          op = {service_row_key(x.service.node, x.service.id), false, encode_row(x.service)};
        } else if constexpr (std::is_same_v<T, state::DeleteService>) {
          op = {service_row_key(x.node, x.id), true, {}};
        } else if constexpr (std::is_same_v<T, state::PutCheck>) {
          op = {check_row_key(x.check.node, x.check.check_id), false, encode_row(x.check)};
        } else if constexpr (std::is_same_v<T, state::DeleteCheck>) {
          op = {check_row_key(x.node, x.id), true, {}};
        } else if constexpr (std::is_same_v<T, state::PutKV>) {
          op = {kv_row_key(x.entry.key), false, encode_row(x.entry)};
        } else if constexpr (std::is_same_v<T, state::DeleteKV>) {
          op = {kv_row_key(x.key), true, {}};
        } else if constexpr (std::is_same_v<T, state::PutSession>) {
          op = {session_row_key(x.session.id), false, encode_row(x.session),
                x.session.ttl > 0 ? session_lease_id(x.session.id) : 0};
        } else if constexpr (std::is_same_v<T, state::DeleteSession>) {
          op = {session_row_key(x.id), true, {}};
        } else if constexpr (std::is_same_v<T, state::PutPreparedQuery>) {
          op = {query_row_key(x.query.id), false, encode_row(x.query)};
        } else if constexpr (std::is_same_v<T, state::DeletePreparedQuery>) {
          op = {query_row_key(x.id), true, {}};
        } else if constexpr (std::is_same_v<T, state::PutAutopilotConfig>) {
          op = {autopilot_row_key(), false, encode_row(x.config)};
        } else if constexpr (std::is_same_v<T, state::SetLockDelay>) {
          op = {lockdelay_row_key(x.key), false, encode_lock_delay_row(x.until_unix_ms)};
        } else {
          return false;  // ReapTombstones: each cache reaps its own
        }
        return true;
      },
      m);
}

std::string row_key_of(const state::Mutation& m) {
  RowOp op;
  return row_op_of(m, op) ? op.key : std::string();
}

TxnBuild build_txn(const state::Batch& batch, const std::vector<ReadGuard>& guards) {
  TxnBuild out;
  std::vector<RowOp> ops;
  std::unordered_map<std::string, size_t> slot;  // key -> index in ops
  for (const auto& m : batch) {
    RowOp op;
    if (!row_op_of(m, op)) continue;
    auto [it, inserted] = slot.emplace(op.key, ops.size());
    if (inserted) {
      ops.push_back(std::move(op));
    } else {
      ops[it->second] = std::move(op);  // the store applies the last write of a row
    }
  }
  if (ops.size() > kMaxTxnOps || guards.size() > kMaxTxnOps) {
    out.code = TxnBuild::Code::too_large;
    out.error = "the write touches " + std::to_string(std::max(ops.size(), guards.size())) +
                " rows; one transaction holds at most " + std::to_string(kMaxTxnOps);
    return out;
  }
  for (const auto& g : guards) {
    etcd::Compare c;
    c.key = g.key;
    if (g.mod_revision == 0) {
      c.target = etcd::Compare::Target::create;  // "still absent"
      c.number = 0;
    } else {
      c.target = etcd::Compare::Target::mod;
      c.number = g.mod_revision;
    }
    out.txn.compare.push_back(std::move(c));
    etcd::RangeRequest read_back;
    read_back.key = g.key;
    read_back.keys_only = true;  // the revisions say what moved; values come from the cache
    out.txn.failure.emplace_back(std::move(read_back));
  }
  for (auto& op : ops) {
    if (op.is_delete) {
      etcd::DeleteRangeRequest d;
      d.key = std::move(op.key);
      out.txn.success.emplace_back(std::move(d));
    } else {
      etcd::PutRequest p;
      p.key = std::move(op.key);
      p.value = std::move(op.value);
      p.lease = op.lease;
      out.txn.success.emplace_back(std::move(p));
    }
  }
  return out;
}

}  // namespace cairn::server
