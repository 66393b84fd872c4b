#include "agent/checks/critical_reaper.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <vector>

using namespace cairn;
using namespace cairn::checks;

TEST_CASE("deregisters a service once its check stayed critical long enough") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<std::string> reaped;
  {
    ReaperSettings s;
    s.minimum_timeout = 0;
    CriticalReaper r(&loop, s,
                     [&](const std::string& svc, const std::string&) { reaped.push_back(svc); });
    uint64_t t0 = uv_now(&loop);
    r.track("c1", "web", 10 * kSecond, "passing");
    r.track("c2", "db", 10 * kSecond, "critical");
    r.reap(t0 + 20'000);
    CHECK(reaped == std::vector<std::string>{"db"});
    r.untrack("c2");  // what deregistering the service does
    r.status("c1", "critical");
    r.reap(t0 + 5'000);
    CHECK(reaped.size() == 1);
    r.status("c1", "passing");  // recovered: the clock starts over
    r.status("c1", "critical");
    r.status("c1", "critical");  // staying critical keeps the first time
    r.reap(uv_now(&loop) + 9'000);
    CHECK(reaped.size() == 1);
    r.reap(uv_now(&loop) + 10'000);
    CHECK(reaped.size() == 2);
    r.untrack("c1");
    CHECK(r.tracked() == 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("timeouts under the minimum are raised to it") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<std::string> reaped;
  {
    CriticalReaper r(&loop, ReaperSettings{},
                     [&](const std::string& svc, const std::string&) { reaped.push_back(svc); });
    r.track("c1", "web", 1 * kSecond, "critical");
    r.reap(uv_now(&loop) + 59'000);
    CHECK(reaped.empty());
    r.reap(uv_now(&loop) + 60'000);
    CHECK(reaped.size() == 1);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("the environment shortens the reaper for tests") {
  setenv("CAIRN_CHECK_REAP_INTERVAL", "200ms", 1);
  setenv("CAIRN_CHECK_DEREGISTER_MIN", "1s", 1);
  ReaperSettings s = ReaperSettings::from_environment();
  CHECK(s.interval == 200 * kMillisecond);
  CHECK(s.minimum_timeout == kSecond);
  setenv("CAIRN_CHECK_REAP_INTERVAL", "bogus", 1);
  CHECK(ReaperSettings::from_environment().interval == 30 * kSecond);
  unsetenv("CAIRN_CHECK_REAP_INTERVAL");
  unsetenv("CAIRN_CHECK_DEREGISTER_MIN");
}
