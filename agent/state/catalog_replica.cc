#include "agent/state/catalog_replica.h"

namespace cairn::state {

Batch catalog_snapshot(const Store& store) {
  Batch out;
  for (const auto& [_, n] : store.nodes()) out.emplace_back(PutNode{n});
  for (const auto& [_, keys] : store.services_by_name())
    for (const auto& key : keys)
      if (const Service* s = store.instance(key)) out.emplace_back(PutService{*s});
  for (const auto& [_, c] : store.checks()) out.emplace_back(PutCheck{c});
  for (const auto& [_, q] : store.prepared_queries()) out.emplace_back(PutPreparedQuery{q});
  return out;
}

bool is_catalog_mutation(const Mutation& m) {
  return std::holds_alternative<PutNode>(m) || std::holds_alternative<DeleteNode>(m) ||
         std::holds_alternative<PutService>(m) || std::holds_alternative<DeleteService>(m) ||
         std::holds_alternative<PutCheck>(m) || std::holds_alternative<DeleteCheck>(m) ||
         std::holds_alternative<PutPreparedQuery>(m) ||
         std::holds_alternative<DeletePreparedQuery>(m);
}

}  // namespace cairn::state
