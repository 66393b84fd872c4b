// Between the state store and a snapshot's records: every replicated table
// (catalog nodes, services and checks, KV, sessions, prepared queries) as
// the rows a server keeps in etcd, and back as the Put mutations a writer
// restores (CatalogWriter::restore).
//
// Not in a snapshot: lock-delay markers (they expire within seconds), the
// cairn leader election's keys, and KV tombstones (a restore raises every
// index above the old ones instead, so blocking queries still move forward).
#pragma once

#include "agent/snapshot/snapshot_file.h"
#include "agent/state/mutation.h"
#include "agent/state/store.h"

namespace cairn::snapshot {

// The store as it is now: one point in time, at store.index(). meta.index
// is set from the store; the caller fills in the rest of meta.
Snapshot snapshot_of(const state::Store& store, Meta meta);

// Every record as a Put mutation, or the first record that is not a row
// cairn can restore (a malformed value, an unknown table, a key twice).
// The mutations' raft indexes are left for the writer to set.
Status rows_of(const Snapshot& s, state::Batch& out);

}  // namespace cairn::snapshot
