// When anti-entropy runs, as Consul's agent/ae and agent/local decide it:
// the periodic full sync spreads out as the cluster grows, and output-only
// check changes are held back so a check whose output changes on every run
// does not rewrite the catalog on every run. Pure functions: the caller
// supplies the random draw (uniform in [0, 1)) and the clock.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cairn::local {

// Consul's ae interval: one full sync a minute in clusters of up to
// kScaleThreshold nodes.
inline constexpr uint64_t kFullSyncIntervalMs = 60'000;
// Consul's scaleThreshold: past it, the stagger doubles each time the cluster does.
inline constexpr size_t kScaleThreshold = 128;
// Consul's check_update_interval default.
inline constexpr uint64_t kCheckUpdateIntervalMs = 5 * 60'000;

// Consul's scaleFactor: 1 up to kScaleThreshold nodes, then
// ceil(log2(nodes) - log2(kScaleThreshold)) + 1 (2 up to 256 nodes, 8 at 8192).
uint64_t scale_factor(size_t nodes);

// The wait until the next full sync after one starts: the interval plus a
// random stagger of up to interval * scale_factor(nodes), as Consul's
// `Interval + Delayer.Jitter(Interval)`. nodes is the LAN member count.
uint64_t full_sync_delay_ms(uint64_t interval_ms, size_t nodes, double rand01);

// How long an output-only change waits before it is synced: half the
// interval plus a random stagger of up to the whole interval, as Consul's
// deferCheck timer (`d/2 + RandomStagger(d)`).
uint64_t output_defer_ms(uint64_t check_update_interval_ms, double rand01);

// What a new check result asks of anti-entropy.
enum class CheckSync {
  none,      // nothing changed, or a deferred sync of this check is already due
  sync_now,  // a status change (or any change when the interval is 0): sync at once
  defer,     // an output-only change: sync after output_defer_ms
};
CheckSync check_sync_action(bool status_changed, bool output_changed,
                            uint64_t check_update_interval_ms, bool deferral_pending);

}  // namespace cairn::local
