// Tombstone garbage collection, a leader duty. KV deletes leave tombstones so
// blocking prefix queries see them; after tombstone_ttl (Consul: 15 minutes)
// every client has had its chance, and the tombstones are reaped. The store
// has no clock, so this remembers which index was current when, and reaps up
// to the newest index that is older than the TTL.
#pragma once

#include <deque>
#include <utility>

#include "agent/server/catalog_writer.h"
#include "common/duration.h"
#include "common/uv_handle.h"

namespace cairn::server {

class TombstoneGC {
 public:
  TombstoneGC(uv_loop_t* loop, CatalogWriter& writer, const state::Store& store, Nanos ttl,
              Nanos granularity);
  void stop() { timer_.stop(); }

 private:
  void tick();

  uv_loop_t* loop_;
  CatalogWriter& writer_;
  const state::Store& store_;
  uint64_t ttl_ms_;
  Timer timer_;
  std::deque<std::pair<uint64_t, uint64_t>> marks_;  // (loop time ms, store index)
};

}  // namespace cairn::server
