#include "agent/gossip/suspicion.h"

#include <algorithm>

#include "agent/gossip/formulas.h"

namespace cairn::gossip {

bool Suspicion::confirm(uint32_t from, Time now, Duration& remaining) {
  if (n_ >= k_) return false;
  if (std::find(seen_.begin(), seen_.end(), from) != seen_.end()) return false;
  seen_.push_back(from);
  ++n_;
  remaining = remaining_suspicion_time(n_, k_, now - start_, min_, max_);
  return true;
}

}  // namespace cairn::gossip
