// Consul's bounds on one transaction: how many operations it holds, and what
// each KV operation may carry. Checked on decoded operations, so a txn that
// arrives as a JSON body (/v1/txn) or over RPC is refused the same way.
#pragma once

#include <cstddef>

#include "agent/ops/op_error.h"
#include "agent/state/kv_ops.h"
#include "agent/state/txn_ops.h"

namespace cairn::ops {

// txn_max_ops: Consul's fixed maximum.
inline constexpr size_t kTxnMaxOps = 128;

// Too many operations is 413, as in Consul (the request is too large).
OpCheck check_txn_op_count(size_t count);
// One KV operation, the index-th of its transaction (0-based, named in the
// message): its key and session against the input limits, its value against
// kv_max_value_size (413).
OpCheck check_txn_kv_op(size_t index, const state::KVOp& op);
// Any operation: KV ones as above; a Node, Service or Check operation's
// names, IDs, tags and meta against the input limits a registration meets.
OpCheck check_txn_op(size_t index, const state::TxnOp& op);

}  // namespace cairn::ops
