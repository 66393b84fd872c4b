// Session TTLs, a leader duty: each session with a TTL gets a timer armed at
// twice its TTL (Consul's SessionTTLMultiplier: "may not be reaped for up to
// double this TTL"); a renewal re-arms it; expiry invalidates the session
// through the catalog writer like any other write.
#pragma once

#include <uv.h>

#include <map>
#include <memory>
#include <string>

#include "agent/server/catalog_writer.h"
#include "common/duration.h"
#include "common/uv_handle.h"

namespace cairn::server {

class SessionTimers {
 public:
  SessionTimers(uv_loop_t* loop, CatalogWriter& writer) : loop_(loop), writer_(writer) {}

  // Arms (or re-arms, on renewal) the timer of a session.
  void arm(const std::string& id, Nanos ttl);
  void cancel(const std::string& id) { timers_.erase(id); }
  void clear() { timers_.clear(); }
  size_t armed() const { return timers_.size(); }

 private:
  uv_loop_t* loop_;
  CatalogWriter& writer_;
  std::map<std::string, std::unique_ptr<Timer>> timers_;
};

}  // namespace cairn::server
