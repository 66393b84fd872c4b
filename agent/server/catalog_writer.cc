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
