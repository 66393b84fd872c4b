#include "agent/checks/interval_check.h"

#include <doctest/doctest.h>

#include <uv.h>

#include <vector>

#include "agent/checks/tcp_check.h"

using namespace cairn;
using namespace cairn::checks;

namespace {

// A probe that never finishes by itself: only the timeout ends its runs.
class HangingCheck : public IntervalCheck {
 public:
  HangingCheck(CheckEnv& env, const state::CheckDefinition& def) : IntervalCheck(env, "hang", def) {
    start();
  }
  int runs = 0, timeouts = 0, overlaps = 0;
  bool in_run = false;

 private:
  void probe() override {
    if (in_run) ++overlaps;
    in_run = true;
    ++runs;
  }
  void timed_out() override {
    ++timeouts;
    in_run = false;
    finish(state::kCritical, "timed out");
  }
};

struct LoopFixture {
  LoopFixture() { uv_loop_init(&loop); }
  ~LoopFixture() {
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }
  void run_for(uint64_t ms) {
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    t.data = &loop;
    uv_timer_start(
        &t, [](uv_timer_t* h) { uv_stop(static_cast<uv_loop_t*>(h->data)); }, ms, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  uv_loop_t loop;
};

}  // namespace

TEST_CASE("runs never overlap; the timeout ends a hanging run; intervals under 1s are raised") {
  LoopFixture f;
  std::vector<std::string> results;
  CheckEnv env(&f.loop);
  env.sink = [&](const std::string&, std::string_view status, std::string_view) {
    results.emplace_back(status);
  };
  state::CheckDefinition def;
  def.interval = 100 * kMillisecond;  // raised to 1s
  def.timeout = 50 * kMillisecond;
  {
    HangingCheck c(env, def);
    f.run_for(2300);
    // First run within [0, 1s), then one every 1.05s: 2 or 3 runs, never 20.
    CHECK(c.runs >= 2);
    CHECK(c.runs <= 3);
    CHECK(c.overlaps == 0);
    CHECK(c.timeouts >= c.runs - 1);
    // The same result every run reaches the sink once.
    CHECK(results == std::vector<std::string>{"critical"});
  }
}

TEST_CASE("a TCP check passes against a listener and fails against a closed port") {
  LoopFixture f;
  // A listener on an ephemeral loopback port, and a port with nothing on it.
  uv_tcp_t server;
  uv_tcp_init(&f.loop, &server);
  sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", 0, &addr);
  REQUIRE(uv_tcp_bind(&server, reinterpret_cast<const sockaddr*>(&addr), 0) == 0);
  REQUIRE(uv_listen(reinterpret_cast<uv_stream_t*>(&server), 16, [](uv_stream_t*, int) {}) == 0);
  sockaddr_in bound;
  int len = sizeof bound;
  uv_tcp_getsockname(&server, reinterpret_cast<sockaddr*>(&bound), &len);
  int port = ntohs(bound.sin_port);

  std::map<std::string, std::pair<std::string, std::string>> got;
  CheckEnv env(&f.loop);
  env.sink = [&](const std::string& id, std::string_view status, std::string_view output) {
    got[id] = {std::string(status), std::string(output)};
  };
  state::CheckDefinition up;
  up.tcp = "127.0.0.1:" + std::to_string(port);
  up.interval = kSecond;
  state::CheckDefinition down = up;
  down.tcp = "127.0.0.1:1";
  {
    TcpCheck a(env, "up", up);
    TcpCheck b(env, "down", down);
    f.run_for(1200);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&server), nullptr);
  CHECK(got["up"].first == "passing");
  CHECK(got["up"].second == "TCP connect " + up.tcp + ": Success");
  CHECK(got["down"].first == "critical");
  CHECK(got["down"].second == "dial tcp 127.0.0.1:1: connect: connection refused");
}
