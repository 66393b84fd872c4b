// Lifeguard's local health ("awareness"): a score in [0, max-1] that grows
// when this node's own probes fail without nacks and when it must refute
// accusations, and shrinks with every successful probe. The probe interval
// used inside a probe is scaled by score + 1, so a node that is itself slow
// (CPU starved, lossy link) waits longer before accusing others.
// Reference: hashicorp/memberlist awareness.go.
#pragma once

#include <algorithm>

#include "agent/gossip/types.h"

namespace cairn::gossip {

class Awareness {
 public:
  explicit Awareness(int max) : max_(max) {}
  void apply_delta(int delta) { score_ = std::clamp(score_ + delta, 0, max_ - 1); }
  int score() const { return score_; }
  Duration scale(Duration timeout) const { return timeout * (score_ + 1); }

 private:
  int max_;
  int score_ = 0;
};

}  // namespace cairn::gossip
