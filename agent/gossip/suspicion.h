// Lifeguard's dynamic suspicion timeout for one suspected node.
//
// The timer starts at max (or min when no confirmations are expected) and
// shrinks towards min as k independent peers confirm the suspicion, so a
// node that many others also cannot reach is declared dead quickly, while a
// lone accuser (who may be the one with the problem) waits longer.
// Reference: hashicorp/memberlist suspicion.go.
#pragma once

#include <cstdint>
#include <vector>

#include "agent/gossip/clock.h"
#include "agent/gossip/types.h"

namespace cairn::gossip {

class Suspicion {
 public:
  // from: the first accuser (never counted as a confirmation).
  Suspicion(uint32_t from, int k, Duration min, Duration max, Time now, Time change_time)
      : k_(k), min_(min), max_(max), start_(now), change_time_(change_time), seen_{from} {}

  Duration initial_timeout() const { return k_ < 1 ? min_ : max_; }
  // Counts a confirmation from a new peer; returns false for a repeat or
  // when k were already counted. On true, remaining is the new time left
  // (<= 0: the timer should fire now).
  bool confirm(uint32_t from, Time now, Duration& remaining);
  int confirmations() const { return n_; }
  Time change_time() const { return change_time_; }

  Clock::TimerId timer = 0;

 private:
  int n_ = 0;
  int k_;
  Duration min_, max_;
  Time start_;
  Time change_time_;
  std::vector<uint32_t> seen_;
};

}  // namespace cairn::gossip
