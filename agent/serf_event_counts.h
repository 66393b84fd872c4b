// Serf's member events in one gossip pool, counted as Consul's
// consul.serf.member.* counters count them, flaps included: a member back
// within Serf's flap timeout of being marked failed.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "agent/gossip/serf.h"

namespace cairn {

struct SerfEventCounts {
  uint64_t join = 0, left = 0, failed = 0, update = 0, reap = 0, flap = 0;
  uint64_t user_events = 0, queries = 0;
};

// Serf's FlapTimeout.
inline constexpr uint64_t kSerfFlapTimeoutMs = 60'000;

class SerfEventCounter {
 public:
  // now_ms: the loop's clock when the event arrived.
  void count(const gossip::SerfEvent& ev, uint64_t now_ms);
  const SerfEventCounts& counts() const { return counts_; }

 private:
  SerfEventCounts counts_;
  // Members marked failed, with when; forgotten when they come back, leave
  // or are reaped, so it holds at most the failed members.
  std::map<std::string, uint64_t> failed_at_;
};

}  // namespace cairn
