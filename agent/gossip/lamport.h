// Serf's Lamport clock: orders join/leave intents, user events and queries
// across the fleet without synchronized wall clocks.
#pragma once

#include <cstdint>

namespace cairn::gossip {

class LamportClock {
 public:
  uint64_t time() const { return t_; }
  uint64_t increment() { return ++t_; }
  // Moves past a time seen elsewhere, so our next event orders after it.
  void witness(uint64_t v) {
    if (v >= t_) t_ = v + 1;
  }

 private:
  uint64_t t_ = 0;
};

}  // namespace cairn::gossip
