// A transaction (/v1/txn): KV and catalog operations applied all or
// nothing, in order, each seeing the writes of those before it.
#pragma once

#include <variant>
#include <vector>

#include "agent/state/catalog_txn.h"
#include "agent/state/kv_ops.h"

namespace cairn::state {

using TxnOp = std::variant<KVOp, NodeTxnOp, ServiceTxnOp, CheckTxnOp>;

// Plans every operation; an error anywhere leaves the batch and the reports
// empty and lists every failing operation, as Consul's state store does.
TxnPlan plan_txn(const Store& store, const std::vector<TxnOp>& ops, int64_t now_ms);

// Whether the operations only read (gets and KV checks).
bool txn_reads_only(const std::vector<TxnOp>& ops);

}  // namespace cairn::state
