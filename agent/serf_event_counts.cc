#include "agent/serf_event_counts.h"

namespace cairn {

void SerfEventCounter::count(const gossip::SerfEvent& ev, uint64_t now_ms) {
  using K = gossip::SerfEvent::Kind;
  SerfEventCounts& c = counts_;
  switch (ev.kind) {
    case K::member_join: {
      ++c.join;
      auto it = failed_at_.find(ev.member.name);
      if (it == failed_at_.end()) break;
      if (now_ms - it->second < kSerfFlapTimeoutMs) ++c.flap;
      failed_at_.erase(it);
      break;
    }
    case K::member_failed:
      ++c.failed;
      failed_at_[ev.member.name] = now_ms;
      break;
    case K::member_leave:
      ++c.left;
      failed_at_.erase(ev.member.name);
      break;
    case K::member_reap:
      ++c.reap;
      failed_at_.erase(ev.member.name);
      break;
    case K::member_update:
      ++c.update;
      break;
    case K::user:
      ++c.user_events;
      break;
    case K::query:
      ++c.queries;
      break;
  }
}

}  // namespace cairn
