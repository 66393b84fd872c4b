// A planned write as one etcd transaction, guarded by what the plan read.
//
// Optimistic concurrency as kube-apiserver does it (reference §8.3): the
// planner reads rows from the watch cache and records each row's etcd
// revision (or that it was absent); the transaction commits only if none of
// them has changed since, so two servers planning against the same rows
// cannot both win, and a retried write whose first attempt did commit fails
// its guards instead of applying twice. The failure branch reads every
// guarded row back, so a conflict tells which rows moved and the retry can
// re-plan from fresh values without another round trip.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/etcd/gateway_types.h"
#include "agent/state/mutation.h"

namespace cairn::server {

// One row the plan depended on: its etcd key and the mod_revision the plan
// saw (0: the plan saw no such row).
struct ReadGuard {
  std::string key;
  int64_t mod_revision = 0;
};

// etcd's own bound on the operations of one branch (--max-txn-ops, §1.6).
inline constexpr size_t kMaxTxnOps = 128;

struct TxnBuild {
  enum class Code : uint8_t { ok, too_large, unsupported };
  Code code = Code::ok;
  std::string error;
  etcd::TxnRequest txn;

  bool ok() const { return code == Code::ok; }
};

// Writes of the same row collapse to the last one, as the store applies
// them (etcd refuses one key twice in a branch, pitfall 14). Mutations that
// only the local cache acts on (tombstone reaping) produce no operation.
TxnBuild build_txn(const state::Batch& batch, const std::vector<ReadGuard>& guards);

// The etcd key a mutation writes ("" for those without one).
std::string row_key_of(const state::Mutation& m);

// The etcd row a mutation writes or deletes.
struct RowOp {
  std::string key;
  bool is_delete = false;
  std::string value;
  int64_t lease = 0;  // a session with a TTL lives on its lease (reference §8.4)
};
// false for mutations with no row of their own (ReapTombstones).
bool row_op_of(const state::Mutation& m, RowOp& op);

}  // namespace cairn::server
