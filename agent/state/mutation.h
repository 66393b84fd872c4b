// A change to one row of the store. A write (a catalog registration, a
// deregistration cascading over a node's services and checks) is planned as a
// batch of mutations and applied atomically at one index: in -dev the store's
// next index, on servers the etcd revision at which the batch was committed.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "agent/state/autopilot_config.h"
#include "agent/state/prepared_query.h"
#include "agent/state/rows.h"

namespace cairn::state {

struct PutNode {
  Node node;
};
struct DeleteNode {
  std::string name;
};
struct PutService {
  Service service;
};
struct DeleteService {
  std::string node;
  std::string id;
};
struct PutCheck {
  Check check;
};
struct DeleteCheck {
  std::string node;
  std::string id;
};
struct PutPreparedQuery {
  PreparedQuery query;
};
struct DeletePreparedQuery {
  std::string id;
};

struct PutKV {
  KVEntry entry;
};
// Deletes a key and leaves a tombstone, so prefix queries see the delete.
struct DeleteKV {
  std::string key;
};
struct PutSession {
  Session session;
};
struct DeleteSession {
  std::string id;
};
// Blocks acquisition of a key until a wall-clock time (a session's lock-delay).
struct SetLockDelay {
  std::string key;
  int64_t until_unix_ms;
};
// Forgets tombstones at or below an index (the leader's tombstone GC).
struct ReapTombstones {
  uint64_t up_to_index;
};

using Mutation =
    std::variant<PutNode, DeleteNode, PutService, DeleteService, PutCheck, DeleteCheck, PutKV,
                 DeleteKV, PutSession, DeleteSession, SetLockDelay, ReapTombstones,
                 PutPreparedQuery, DeletePreparedQuery, PutAutopilotConfig>;
using Batch = std::vector<Mutation>;

}  // namespace cairn::state
