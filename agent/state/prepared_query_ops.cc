#include "agent/state/prepared_query_ops.h"

#include "common/random.h"

namespace cairn::state {

std::string plan_query_set(const Store& store, const PreparedQuery& q, bool create, Batch& out) {
  const PreparedQuery* existing = store.prepared_query(q.id);
  if (!create && !existing) return "Cannot modify non-existent prepared query: '" + q.id + "'";
  if (create && existing) return "ID must be empty when creating a new prepared query";
  if (std::string err = validate_query(q); !err.empty()) return "Invalid prepared query: " + err;

  if (!q.name.empty()) {
    const PreparedQuery* other = store.prepared_query_by_name(q.name);
    if (other && (!existing || other->id != existing->id))
      return "name '" + q.name + "' aliases an existing query name";
  } else if (q.is_template()) {
    const PreparedQuery* wild = store.prepared_query_wild();
    if (wild && (!existing || wild->id != existing->id))
      return "a query template with an empty name already exists";
  }
  if (is_uuid(q.name) && store.prepared_query(q.name))
    return "name '" + q.name + "' aliases an existing query ID";

  if (existing && existing->same_content(q)) return "";
  out.push_back(PutPreparedQuery{q});
  return "";
}

std::string plan_query_delete(const Store& store, const std::string& id, Batch& out) {
  if (!store.prepared_query(id)) return "Cannot modify non-existent prepared query: '" + id + "'";
  out.push_back(DeletePreparedQuery{store.prepared_query(id)->id});
  return "";
}

}  // namespace cairn::state
