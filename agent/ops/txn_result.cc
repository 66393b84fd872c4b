#include "agent/ops/txn_result.h"

#include "agent/state/encode.h"

namespace cairn::ops {

namespace {

void write_errors(JsonWriter& w, const std::vector<state::TxnError>& errors) {
  w.begin_array();
  for (const auto& e : errors) {
    w.begin_object();
    w.field("OpIndex", static_cast<uint64_t>(e.op_index));
    w.field("What", e.what);
    w.end_object();
  }
  w.end_array();
}

void write_kv_result(JsonWriter& w, const state::KVEntry& e, bool with_value) {
  w.begin_object();
  w.key("KV");
  state::write_kv(w, e, with_value);
  w.end_object();
}

// {"Node": ...}, {"Service": ...} (a NodeService) or {"Check": ...}, as the
// row stands after the transaction; nothing when a later operation removed it.
void write_catalog_result(JsonWriter& w, const state::Store& store,
                          const state::TxnPlan::Report& rep) {
  using Kind = state::TxnPlan::Report::Kind;
  auto result = [&w](const char* name, auto write) {
    w.begin_object();
    w.key(name);
    write();
    w.end_object();
  };
  if (rep.kind == Kind::node) {
    if (const state::Node* n = store.node(rep.node))
      result("Node", [&] { state::write_node(w, *n, state::Empties::as_null); });
  } else if (rep.kind == Kind::service) {
    if (const state::Service* s = store.service(rep.node, rep.key))
      result("Service", [&] { state::write_service(w, *s); });
  } else if (const state::Check* c = store.check(rep.node, rep.key)) {
    result("Check", [&] { state::write_check(w, *c, state::Empties::as_null); });
  }
}

void write_results(JsonWriter& w, const state::Store& store,
                   const std::vector<state::TxnPlan::Report>& reports) {
  w.begin_array();
  for (const auto& rep : reports) {
    if (rep.kind != state::TxnPlan::Report::Kind::kv) {
      write_catalog_result(w, store, rep);
    } else if (rep.tree) {
      const auto& kvs = store.kvs();
      for (auto it = kvs.lower_bound(rep.key);
           it != kvs.end() && it->first.compare(0, rep.key.size(), rep.key) == 0; ++it)
        write_kv_result(w, it->second, rep.with_value);
    } else if (const state::KVEntry* e = store.kv(rep.key)) {
      write_kv_result(w, *e, rep.with_value);
    } else if (rep.may_be_missing) {
      // get-or-empty: a missing key is reported, as null.
      w.begin_object();
      w.key("KV");
      w.null();
      w.end_object();
    }
  }
  w.end_array();
}

}  // namespace

TxnOutcome write_txn_result(JsonWriter& w, const state::Store& store, const state::TxnPlan& plan) {
  w.begin_object();
  if (!plan.ok()) {
    w.key("Results");
    w.null();
    w.key("Errors");
    write_errors(w, plan.errors);
    w.end_object();
    return TxnOutcome::rolled_back;
  }
  w.key("Results");
  write_results(w, store, plan.reports);
  w.key("Errors");
  w.null();
  w.end_object();
  return TxnOutcome::committed;
}

}  // namespace cairn::ops
