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

}  // namespace cairn::ops
