// Plans prepared-query writes (POST/PUT/DELETE /v1/query) as store mutations,
// validated against the current store: Consul's parseQuery rules plus the
// uniqueness rules its state store enforces (a name is used once, never
// aliases another query's ID, and only one catch-all template exists).
#pragma once

#include <string>

#include "agent/state/mutation.h"
#include "agent/state/store.h"

namespace cairn::state {

// Creates (q.id set by the caller, not yet stored) or updates (q.id exists)
// a query. Returns "" or Consul's error text (callers add "Invalid prepared
// query: " for validation errors, as Consul's endpoint does).
std::string plan_query_set(const Store& store, const PreparedQuery& q, bool create, Batch& out);
std::string plan_query_delete(const Store& store, const std::string& id, Batch& out);

}  // namespace cairn::state
