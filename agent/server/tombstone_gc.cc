#include "agent/server/tombstone_gc.h"

namespace cairn::server {

TombstoneGC::TombstoneGC(uv_loop_t* loop, CatalogWriter& writer, const state::Store& store,
                         Nanos ttl, Nanos granularity)
    : loop_(loop), writer_(writer), store_(store),
      ttl_ms_(static_cast<uint64_t>(ttl / kMillisecond)), timer_(loop) {
  uint64_t every = static_cast<uint64_t>(granularity / kMillisecond);
  timer_.start(every, every, [this] { tick(); });
  timer_.unref();
}

void TombstoneGC::tick() {
  uint64_t now = uv_now(loop_);
  marks_.emplace_back(now, store_.index());
  uint64_t reap_to = 0;
  while (!marks_.empty() && now - marks_.front().first >= ttl_ms_) {
    reap_to = marks_.front().second;
    marks_.pop_front();
  }
  if (reap_to == 0 || store_.tombstones().empty()) return;
  bool any = false;
  for (const auto& [key, index] : store_.tombstones()) any = any || index <= reap_to;
  if (!any) return;
  writer_.write(
      [reap_to](const state::Store&, int64_t, state::Batch& out) {
        out.push_back(state::ReapTombstones{reap_to});
        return std::string();
      },
      nullptr);
}

}  // namespace cairn::server
