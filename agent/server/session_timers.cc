#include "agent/server/session_timers.h"

#include "agent/state/session_ops.h"
#include "common/log.h"

namespace cairn::server {

void SessionTimers::arm(const std::string& id, Nanos ttl) {
  if (ttl <= 0) return;
  auto& t = timers_[id];
  if (!t) t = std::make_unique<Timer>(loop_);
  uint64_t ms = static_cast<uint64_t>(2 * ttl / kMillisecond);
  t->start(ms, 0, [this, id] {
    log::info("server", "session TTL expired, invalidating", {{"session", id}});
    writer_.write(
        [id](const state::Store& store, int64_t now, state::Batch& out) {
          state::plan_session_invalidate(store, id, now, out);
          return std::string();
        },
        nullptr);
    timers_.erase(id);  // last: this destroys the timer whose callback is running
  });
}

}  // namespace cairn::server
