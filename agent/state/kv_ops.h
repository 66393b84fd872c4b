// Plans KV writes and reads, singly (/v1/kv) or as one all-or-nothing
// transaction (/v1/txn), against the store plus the transaction's own
// earlier writes. Pure: the caller passes the wall-clock time that lock
// delays are compared with.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/state/mutation.h"
#include "agent/state/store.h"

namespace cairn::state {

enum class KVVerb {
  set,
  cas,
  lock,
  unlock,
  get,
  get_tree,
  get_or_empty,
  check_index,
  check_session,
  check_not_exists,
  del,
  delete_tree,
  delete_cas,
};

// Consul's verb names ("set", "delete-tree", ...); false for an unknown name.
bool parse_kv_verb(const std::string& name, KVVerb& out);

struct KVOp {
  KVVerb verb = KVVerb::set;
  std::string key;
  std::string value;
  uint64_t flags = 0;
  uint64_t index = 0;
  std::string session;
};

struct TxnError {
  size_t op_index = 0;
  std::string what;
  // A condition that did not hold (stale CAS, lock held, lock delay): /v1/kv
  // answers `false` for these; other errors (invalid session) are 500s.
  bool condition = false;
};

struct TxnPlan {
  Batch batch;
  std::vector<TxnError> errors;
  // What each op reports once committed: a key to read back (with or without
  // its value), a prefix for get-tree, or nothing (deletes).
  struct Report {
    size_t op_index;
    std::string key;  // KV: the key or prefix; catalog: the service or check ID
    bool with_value;
    bool tree;
    bool may_be_missing;  // get-or-empty
    // Catalog operations (catalog_txn.h) report the row they read or wrote.
    enum class Kind : uint8_t { kv, node, service, check };
    Kind kind = Kind::kv;
    std::string node = {};  // node, service and check rows: the node's name
  };
  std::vector<Report> reports;
  bool ok() const { return errors.empty(); }
};

// Plans KV operations one at a time, each against the store and the writes
// of the operations planned before it, appending to a plan that may also hold
// catalog operations (txn_ops.h). now_ms is compared with lock delays.
class KVTxnPlanner {
 public:
  KVTxnPlanner(const Store& store, int64_t now_ms);
  ~KVTxnPlanner();
  KVTxnPlanner(const KVTxnPlanner&) = delete;
  KVTxnPlanner& operator=(const KVTxnPlanner&) = delete;
  void plan(size_t op_index, const KVOp& op, TxnPlan& plan);

 private:
  class View;
  const Store& store_;
  int64_t now_ms_;
  std::unique_ptr<View> view_;
};

// A transaction of KV operations only: all or nothing (an error anywhere
// leaves the batch and the reports empty).
TxnPlan plan_kv_txn(const Store& store, const std::vector<KVOp>& ops, int64_t now_ms);

}  // namespace cairn::state
