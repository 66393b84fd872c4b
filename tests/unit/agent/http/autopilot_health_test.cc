// Autopilot health from cairn's facts: Healthy, FailureTolerance, StableSince.
#include "agent/http/autopilot_health.h"

#include <doctest/doctest.h>

using namespace cairn::http_api;

namespace {

ServerFacts server(std::string id, std::string status, bool leader = false, bool voter = true) {
  ServerFacts f;
  f.id = std::move(id);
  f.name = "n-" + f.id;
  f.serf_status = std::move(status);
  f.leader = leader;
  f.voter = voter;
  return f;
}

}  // namespace

TEST_CASE("three healthy voters tolerate one failure") {
  StableSinceTracker t;
  HealthReport r = assess_servers(
      {server("a", "alive", true), server("b", "alive"), server("c", "alive")}, true, t, 1000);
  CHECK(r.healthy);
  CHECK(r.failure_tolerance == 1);
  CHECK(r.leader_id == "a");
  for (const auto& s : r.servers) CHECK(s.healthy);
}

TEST_CASE("a failed server makes the datacenter unhealthy and uses up the tolerance") {
  StableSinceTracker t;
  HealthReport r = assess_servers(
      {server("a", "alive", true), server("b", "failed"), server("c", "alive")}, true, t, 1000);
  CHECK_FALSE(r.healthy);
  CHECK(r.failure_tolerance == 0);
  CHECK_FALSE(r.servers[1].healthy);
  // Learners do not count toward the quorum.
  HealthReport five =
      assess_servers({server("a", "alive", true), server("b", "alive"), server("c", "alive"),
                      server("d", "alive"), server("e", "alive", false, false)},
                     true, t, 1000);
  CHECK(five.failure_tolerance == 1);  // 4 voters: quorum 3
}

TEST_CASE("no leader: nobody is healthy") {
  StableSinceTracker t;
  HealthReport r = assess_servers({server("a", "alive")}, false, t, 1000);
  CHECK_FALSE(r.healthy);
  CHECK_FALSE(r.servers[0].healthy);
  CHECK(r.leader_id.empty());
}

TEST_CASE("StableSince moves only when Healthy changes") {
  StableSinceTracker t;
  CHECK(t.since("a", true, 1000) == 1000);
  CHECK(t.since("a", true, 5000) == 1000);
  CHECK(t.since("a", false, 6000) == 6000);
  CHECK(t.since("a", false, 9000) == 6000);
  CHECK(t.since("b", true, 9000) == 9000);
}

TEST_CASE("Go times in JSON") {
  CHECK(format_go_time(0, false) == "1970-01-01T00:00:00Z");
  CHECK(format_go_time(1'700'000'000'250, false) == "2023-11-14T22:13:20.25Z");
  CHECK(format_go_time(1'700'000'000'250, true) == "2023-11-14T22:13:20Z");
  CHECK(format_go_time(1'700'000'000'600, true) == "2023-11-14T22:13:21Z");
}
