#include "agent/server/catalog_writer.h"

#include "agent/state/session_ops.h"

namespace cairn::server {

PlanStatus plan_write(const Plan& plan, const state::Store& store, int64_t now_ms,
                      state::Batch& out) {
  PlanStatus status = plan(store, now_ms, out);
  if (status.ok() && !out.empty()) {
    state::Batch effects;
    state::plan_session_effects(store, out, now_ms, effects);
    out.insert(out.end(), std::make_move_iterator(effects.begin()),
               std::make_move_iterator(effects.end()));
  }
  return status;
}

void CatalogWriter::restore(state::Batch, WriteDone done) {
  if (done) done(WriteResult::failure(WriteCode::invalid, "this agent cannot restore snapshots"));
}

void stamp_rows(state::Batch& rows, uint64_t index) {
  for (auto& m : rows)
    std::visit(
        [index](auto& op) {
          if constexpr (requires { op.node.raft; }) op.node.raft = {index, index};
          if constexpr (requires { op.service.raft; }) op.service.raft = {index, index};
          if constexpr (requires { op.check.raft; }) op.check.raft = {index, index};
          if constexpr (requires { op.entry.raft; }) op.entry.raft = {index, index};
          if constexpr (requires { op.session.raft; }) op.session.raft = {index, index};
          if constexpr (requires { op.query.raft; }) op.query.raft = {index, index};
        },
        m);
}

void DevWriter::restore(state::Batch rows, WriteDone done) {
  // The store swaps its tables in one step on the loop: nothing reads between.
  uint64_t index = store_.index() + 1;
  stamp_rows(rows, index);
  store_.load_snapshot(rows, index);
  if (done) done(WriteResult::success(store_.index()));
}

void DevWriter::write(Plan plan, WriteDone done) {
  state::Batch batch;
  PlanStatus status = plan_write(plan, store_, now_ms_(), batch);
  if (!status.ok()) {
    if (done) done(WriteResult::failure(status.code, std::move(status.message), store_.index()));
    return;
  }
  if (!batch.empty()) store_.apply(batch, store_.index() + 1);
  if (done) done(WriteResult::success(store_.index()));
}

}  // namespace cairn::server
