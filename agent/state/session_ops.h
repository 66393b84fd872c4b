// Plans session changes: creation (validated like Consul's), and
// invalidation with its consequences — locks released or keys deleted per
// the session's Behavior, then lock-delay on those keys.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/state/mutation.h"
#include "agent/state/store.h"

namespace cairn::state {

inline constexpr Nanos kSessionTTLMin = 10 * kSecond;
inline constexpr Nanos kSessionTTLMax = 24 * kHour;

// Returns "" or the error (Consul's wording).
std::string plan_session_create(const Store& store, const Session& s, Batch& out,
                                Nanos ttl_min = kSessionTTLMin);
// Invalidates a session (destroy, TTL expiry, a failed check, a removed node).
void plan_session_invalidate(const Store& store, const std::string& id, int64_t now_ms, Batch& out);

// Releases (or deletes, per Behavior) the keys of `keys` that s still holds,
// with its lock-delay: what invalidating s does to its locks. On servers the
// leader also runs it for a session whose etcd lease expired (the row is then
// already gone, so the caller passes the session as it was).
void plan_release_locks(const Store& store, const Session& s, const std::vector<std::string>& keys,
                        int64_t now_ms, Batch& out);

// Sessions a batch invalidates as a side effect: a check they name turned
// critical or was removed, or their node was removed. Appended to every write
// by the catalog writer, so no write path can forget them.
void plan_session_effects(const Store& store, const Batch& batch, int64_t now_ms, Batch& extra);

}  // namespace cairn::state
