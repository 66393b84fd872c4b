// Restoring a snapshot on a server: the whole replacement is one etcd
// transaction, so every server's watch cache sees it as one revision and
// no reader, on any server, ever sees half of it.
//
// The transaction:
//   compare  every table's prefix (node, service, check, kv, session, query):
//            no row modified after the revision this cache has applied
//            (a range compare, mod < applied + 1);
//   success  delete each row the cache holds that the snapshot does not,
//            put each row of the snapshot (sessions with a TTL on their lease).
// It names keys one by one rather than deleting table prefixes, because etcd
// refuses a put inside a range the same transaction deletes. If another
// server wrote meanwhile, the compare fails; the writer waits for its cache
// to catch up and builds the transaction again (deletes from a stale cache
// would miss rows created meanwhile; the compare is what catches that).
//
// Bounds: cairn's members run with --max-txn-ops kMemberMaxTxnOps
// (member_command.h) so that a restore fits one transaction, and etcd
// refuses requests over --max-request-bytes (1.5 MiB, left at etcd's
// default): a snapshot whose rows do not fit is refused before anything is
// sent. A larger restore would need staging beneath a fence the caches
// honour; docs/snapshot.md says so.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/etcd/gateway_types.h"
#include "agent/state/mutation.h"
#include "agent/state/store.h"

namespace cairn::server {

// etcd's --max-request-bytes default, less room for the transaction's framing.
inline constexpr size_t kMaxRestoreRequestBytes = (1536u << 10) - (64u << 10);
// Every server's watch receives the restore's revision as one message, with
// the old value of each row it replaces or deletes; the watch feed's line
// bound (etcd/stream_lines.h, 8 MiB) must hold it, or the caches could not
// follow the restore.
inline constexpr size_t kMaxRestoreWatchBytes = 6u << 20;

struct RestoreLease {
  int64_t id = 0;
  int64_t ttl_seconds = 0;
};

struct RestoreBuild {
  enum class Code : uint8_t { ok, too_large, invalid };
  Code code = Code::ok;
  std::string error;
  etcd::TxnRequest txn;
  std::vector<RestoreLease> grant;  // leases of restored sessions with a TTL
  std::vector<int64_t> revoke;      // leases of sessions the restore removes

  bool ok() const { return code == Code::ok; }
};

// Pure: the transaction that replaces what store holds (at store.index())
// with rows (Put mutations).
RestoreBuild build_restore_txn(const state::Store& store, const state::Batch& rows);

}  // namespace cairn::server
