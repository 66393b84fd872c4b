#include "agent/server/catalog_writer.h"

#include "agent/state/session_ops.h"

namespace cairn::server {

void DevWriter::write(Plan plan, WriteDone done) {
  state::Batch batch;
  int64_t now = now_ms_();
  std::string err = plan(store_, now, batch);
  if (err.empty() && !batch.empty()) {
    state::Batch effects;
    state::plan_session_effects(store_, batch, now, effects);
    batch.insert(batch.end(), std::make_move_iterator(effects.begin()),
                 std::make_move_iterator(effects.end()));
  }
  if (err.empty() && !batch.empty()) store_.apply(batch, store_.index() + 1);
  if (done) done(err, store_.index());
}

}  // namespace cairn::server
