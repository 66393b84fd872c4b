#include "agent/snapshot/snapshot_rows.h"

#include <unordered_set>

#include "agent/server/etcd_rows.h"

namespace cairn::snapshot {

namespace {

void add(Snapshot& s, std::string key, std::string value) {
  s.records.push_back({std::move(key), std::move(value)});
}

}  // namespace

Snapshot snapshot_of(const state::Store& store, Meta meta) {
  Snapshot s;
  s.meta = std::move(meta);
  s.meta.index = store.index();
  size_t rows = store.nodes().size() + store.checks().size() + store.kvs().size() +
                store.sessions().size() + store.prepared_queries().size();
  s.records.reserve(rows * 2);
  for (const auto& [lc_name, node] : store.nodes()) {
    add(s, server::node_row_key(node.name), server::encode_row(node));
    for (const state::Service* svc : store.services_of_node(lc_name))
      add(s, server::service_row_key(svc->node, svc->id), server::encode_row(*svc));
  }
  for (const auto& [key, check] : store.checks())
    add(s, server::check_row_key(check.node, check.check_id), server::encode_row(check));
  for (const auto& [id, session] : store.sessions())
    add(s, server::session_row_key(id), server::encode_row(session));
  for (const auto& [key, entry] : store.kvs())
    add(s, server::kv_row_key(key), server::encode_row(entry));
  for (const auto& [id, query] : store.prepared_queries())
    add(s, server::query_row_key(id), server::encode_row(query));
  return s;
}

Status rows_of(const Snapshot& s, state::Batch& out) {
  state::Batch rows;
  rows.reserve(s.records.size());
  std::unordered_set<std::string_view> seen;
  seen.reserve(s.records.size());
  for (size_t i = 0; i < s.records.size(); ++i) {
    const Record& r = s.records[i];
    if (!seen.insert(r.key).second)
      return Status::error(ErrorCode::malformed, "record " + std::to_string(i) + " (" + r.key +
                                                     ") repeats an earlier row");
    server::RowKey key = server::parse_row_key(r.key);
    if (key.table == server::Table::lockdelay || key.table == server::Table::leader ||
        key.table == server::Table::unknown)
      return Status::error(ErrorCode::malformed, "record " + std::to_string(i) + " (" + r.key +
                                                     ") is not a table a snapshot holds");
    // decode_row reads revisions from etcd; a snapshot's rows get theirs
    // from the restore, so any valid pair will do here.
    etcd::KeyValue kv{r.key, r.value, 1, 1, 1, 0};
    state::Mutation m;
    server::RowStatus st = server::decode_row(kv, m);
    if (!st.ok())
      return Status::error(ErrorCode::malformed, "record " + std::to_string(i) + ": " +
                                                     (st.error.empty() ? r.key : st.error));
    rows.push_back(std::move(m));
  }
  out = std::move(rows);
  return {};
}

}  // namespace cairn::snapshot
