#include "agent/local/sync_timing.h"

#include <cmath>

namespace cairn::local {

namespace {
// A stagger of up to span ms from a draw in [0, 1); out-of-range draws are clamped.
uint64_t stagger(uint64_t span, double rand01) {
  if (!(rand01 > 0)) return 0;
  if (rand01 >= 1) rand01 = std::nextafter(1.0, 0.0);
  return static_cast<uint64_t>(static_cast<double>(span) * rand01);
}
}  // namespace

uint64_t scale_factor(size_t nodes) {
  if (nodes <= kScaleThreshold) return 1;
  double extra = std::ceil(std::log2(static_cast<double>(nodes)) -
                           std::log2(static_cast<double>(kScaleThreshold)));
  return static_cast<uint64_t>(extra) + 1;
}

uint64_t full_sync_delay_ms(uint64_t interval_ms, size_t nodes, double rand01) {
  return interval_ms + stagger(interval_ms * scale_factor(nodes), rand01);
}

uint64_t output_defer_ms(uint64_t check_update_interval_ms, double rand01) {
  return check_update_interval_ms / 2 + stagger(check_update_interval_ms, rand01);
}

CheckSync check_sync_action(bool status_changed, bool output_changed,
                            uint64_t check_update_interval_ms, bool deferral_pending) {
  if (status_changed) return CheckSync::sync_now;
  if (!output_changed) return CheckSync::none;
  if (check_update_interval_ms == 0) return CheckSync::sync_now;
  return deferral_pending ? CheckSync::none : CheckSync::defer;
}

}  // namespace cairn::local
