// What a read-only replica of the catalog (nodes, services, checks, prepared
// queries: what DNS reads) needs from the store that owns it: a snapshot
// batch that seeds it, and the filter for the batches that follow. Replaying
// both keeps the replica equal to the owner's catalog without sharing it.
#pragma once

#include "agent/state/mutation.h"
#include "agent/state/store.h"

namespace cairn::state {

// Every catalog row of store as puts, nodes first (services and checks need them).
Batch catalog_snapshot(const Store& store);
// Whether a mutation changes the catalog (not KV, sessions, lock delays, tombstones).
bool is_catalog_mutation(const Mutation& m);

}  // namespace cairn::state
