#include "common/metrics.h"

#include <doctest/doctest.h>

using cairn::MetricsRegistry;

TEST_CASE("add_from sums counters and gauges and combines summaries, by name and labels") {
  MetricsRegistry a, b, all;
  a.counter("consul.dns.queries", "q", {{"type", "A"}}).inc(3);
  b.counter("consul.dns.queries", "q", {{"type", "A"}}).inc(4);
  b.counter("consul.dns.queries", "q", {{"type", "SRV"}}).inc(1);
  a.gauge("g", "gauge").set(1.5);
  b.gauge("g", "gauge").set(2.0);
  a.summary("t", "time").observe(2.0);
  b.summary("t", "time").observe(0.5);
  b.summary("t", "time").observe(9.0);
  b.summary("empty", "never observed");

  all.add_from(a);
  all.add_from(b);
  CHECK(all.counter("consul.dns.queries", "q", {{"type", "A"}}).value == 7);
  CHECK(all.counter("consul.dns.queries", "q", {{"type", "SRV"}}).value == 1);
  CHECK(all.gauge("g", "gauge").value == 3.5);
  auto& t = all.summary("t", "time");
  CHECK(t.count == 3);
  CHECK(t.sum == 11.5);
  CHECK(t.min == 0.5);
  CHECK(t.max == 9.0);
  CHECK(all.summary("empty", "never observed").count == 0);
  // The sources are unchanged.
  CHECK(a.counter("consul.dns.queries", "q", {{"type", "A"}}).value == 3);
}
