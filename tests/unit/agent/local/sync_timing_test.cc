#include "agent/local/sync_timing.h"

#include <doctest/doctest.h>

#include "agent/local/deferred_checks.h"

using namespace cairn::local;

TEST_CASE("the full-sync stagger scales with the cluster as Consul's ae scaleFactor") {
  CHECK(scale_factor(0) == 1);
  CHECK(scale_factor(1) == 1);
  CHECK(scale_factor(128) == 1);
  CHECK(scale_factor(129) == 2);
  CHECK(scale_factor(256) == 2);
  CHECK(scale_factor(257) == 3);
  CHECK(scale_factor(512) == 3);
  CHECK(scale_factor(8192) == 7);
  CHECK(scale_factor(8193) == 8);
}

TEST_CASE("the next full sync waits the interval plus a stagger of up to interval x scale") {
  const uint64_t m = kFullSyncIntervalMs;
  CHECK(full_sync_delay_ms(m, 3, 0.0) == m);
  CHECK(full_sync_delay_ms(m, 3, 0.5) == m + m / 2);
  CHECK(full_sync_delay_ms(m, 128, 0.999) < 2 * m);
  // 200 nodes: scale 2, so up to three minutes.
  CHECK(full_sync_delay_ms(m, 200, 0.0) == m);
  CHECK(full_sync_delay_ms(m, 200, 0.5) == 2 * m);
  CHECK(full_sync_delay_ms(m, 200, 0.999) < 3 * m);
  // Draws outside [0, 1) are clamped, never a longer wait than the bound.
  CHECK(full_sync_delay_ms(m, 3, -1.0) == m);
  CHECK(full_sync_delay_ms(m, 3, 7.0) < 2 * m);
}

TEST_CASE("an output-only change waits half the interval plus up to the interval") {
  const uint64_t d = kCheckUpdateIntervalMs;
  CHECK(output_defer_ms(d, 0.0) == d / 2);
  CHECK(output_defer_ms(d, 0.5) == d);
  CHECK(output_defer_ms(d, 0.999) < d / 2 + d);
  CHECK(output_defer_ms(2000, 0.25) == 1500);
}

TEST_CASE("status changes sync at once, output-only changes are deferred once") {
  const uint64_t d = 1000;
  CHECK(check_sync_action(true, true, d, false) == CheckSync::sync_now);
  CHECK(check_sync_action(true, false, d, true) == CheckSync::sync_now);
  CHECK(check_sync_action(false, false, d, false) == CheckSync::none);
  CHECK(check_sync_action(false, true, d, false) == CheckSync::defer);
  // Already waiting: the deferred sync will carry the latest output.
  CHECK(check_sync_action(false, true, d, true) == CheckSync::none);
  // check_update_interval 0: nothing is deferred.
  CHECK(check_sync_action(false, true, 0, false) == CheckSync::sync_now);
}

TEST_CASE("deferred checks come due in order and keep their first turn") {
  DeferredChecks q;
  CHECK_FALSE(q.next_due().has_value());
  CHECK(q.schedule("b", 200));
  CHECK(q.schedule("a", 100));
  CHECK_FALSE(q.schedule("a", 50));  // an earlier change keeps its turn
  CHECK(q.pending("a"));
  CHECK(q.size() == 2);
  CHECK(*q.next_due() == 100);
  CHECK(q.take_due(99).empty());
  CHECK(q.take_due(150) == std::vector<std::string>{"a"});
  CHECK_FALSE(q.pending("a"));
  CHECK(q.schedule("c", 200));
  CHECK(q.cancel("b"));
  CHECK_FALSE(q.cancel("b"));
  CHECK(q.take_due(1000) == std::vector<std::string>{"c"});
  CHECK(q.size() == 0);
  CHECK_FALSE(q.next_due().has_value());
}
