#include "agent/state/txn_ops.h"

#include <algorithm>

namespace cairn::state {

namespace {

// Sends each operation to the planner of its kind; both append to one plan.
struct PlanOne {
  KVTxnPlanner& kv;
  CatalogTxnPlanner& catalog;
  TxnPlan& plan;
  size_t index;
  void operator()(const KVOp& op) const { kv.plan(index, op, plan); }
  template <typename CatalogOp>
  void operator()(const CatalogOp& op) const {
    catalog.plan(index, op, plan);
  }
};

struct ReadsOnly {
  bool operator()(const KVOp& op) const {
    using V = KVVerb;
    return op.verb == V::get || op.verb == V::get_tree || op.verb == V::get_or_empty ||
           op.verb == V::check_index || op.verb == V::check_session ||
           op.verb == V::check_not_exists;
  }
  template <typename CatalogOp>
  bool operator()(const CatalogOp& op) const {
    return op.verb == CatalogVerb::get;
  }
};

}  // namespace

TxnPlan plan_txn(const Store& store, const std::vector<TxnOp>& ops, int64_t now_ms) {
  TxnPlan plan;
  KVTxnPlanner kv(store, now_ms);
  CatalogTxnPlanner catalog(store);
  for (size_t i = 0; i < ops.size(); ++i) std::visit(PlanOne{kv, catalog, plan, i}, ops[i]);
  if (!plan.errors.empty()) {
    plan.batch.clear();
    plan.reports.clear();
  }
  return plan;
}

bool txn_reads_only(const std::vector<TxnOp>& ops) {
  return std::all_of(ops.begin(), ops.end(),
                     [](const TxnOp& op) { return std::visit(ReadsOnly{}, op); });
}

}  // namespace cairn::state
