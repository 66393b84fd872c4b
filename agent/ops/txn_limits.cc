#include "agent/ops/txn_limits.h"

#include <string>

#include "agent/ops/kv_write.h"
#include "agent/state/input_limits.h"

namespace cairn::ops {

OpCheck check_txn_op_count(size_t count) {
  if (count <= kTxnMaxOps) return std::nullopt;
  return too_large("Transaction contains too many operations (" + std::to_string(count) + " > " +
                   std::to_string(kTxnMaxOps) + ")");
}

OpCheck check_txn_kv_op(size_t index, const state::KVOp& op) {
  state::LimitCheck limit = state::check_kv_key(op.key);
  if (!limit) limit = state::check_identifier("Session", op.session);
  if (limit) {
    // The message says which operation, as the whole transaction is refused.
    return OpError{OpErrorCode::limit, "Operation " + std::to_string(index) + ": " + limit->message,
                   limit->limit};
  }
  if (op.value.size() > kMaxKVValueBytes)
    return too_large("Value for key \"" + op.key + "\" is too large (" +
                     std::to_string(op.value.size()) + " > " + std::to_string(kMaxKVValueBytes) +
                     " bytes)");
  return std::nullopt;
}

namespace {

// A refused limit names the operation, as the whole transaction is refused.
OpCheck refused_in_op(size_t index, const state::LimitCheck& limit) {
  if (!limit) return std::nullopt;
  return OpError{OpErrorCode::limit, "Operation " + std::to_string(index) + ": " + limit->message,
                 limit->limit};
}

state::LimitCheck node_limits(const state::Node& n) {
  if (auto e = state::check_identifier("Node", n.name)) return e;
  if (auto e = state::check_identifier("ID", n.id)) return e;
  if (auto e = state::check_identifier("Address", n.address)) return e;
  if (auto e = state::check_meta("Meta", n.meta)) return e;
  if (n.tagged_addresses.size() > state::kMaxTaggedAddresses)
    return state::LimitError{
        "tagged_addresses",
        "TaggedAddresses: " + std::to_string(n.tagged_addresses.size()) +
            " addresses are too many, max: " + std::to_string(state::kMaxTaggedAddresses)};
  return std::nullopt;
}

// The limits of each kind of operation, as one visitor.
struct OpLimits {
  size_t index;
  OpCheck operator()(const state::KVOp& op) const { return check_txn_kv_op(index, op); }
  OpCheck operator()(const state::NodeTxnOp& op) const {
    return refused_in_op(index, node_limits(op.node));
  }
  OpCheck operator()(const state::ServiceTxnOp& op) const {
    state::LimitCheck limit = state::check_identifier("Node", op.node);
    if (!limit) limit = state::check_service(op.service);
    return refused_in_op(index, limit);
  }
  OpCheck operator()(const state::CheckTxnOp& op) const {
    state::LimitCheck limit = state::check_identifier("Node", op.check.node);
    if (!limit) limit = state::check_check("", op.check);
    return refused_in_op(index, limit);
  }
};

}  // namespace

OpCheck check_txn_op(size_t index, const state::TxnOp& op) {
  return std::visit(OpLimits{index}, op);
}

}  // namespace cairn::ops
