#include "agent/checks/timeout_queues.h"

#include <doctest/doctest.h>

#include <vector>

using namespace cairn::checks;

namespace {

struct Probe : TimeoutQueues::Entry {
  explicit Probe(int id, std::vector<int>& fired) : id(id), fired(fired) {}
  void on_timeout() override { fired.push_back(id); }
  int id;
  std::vector<int>& fired;
};

}  // namespace

TEST_CASE("timeouts fire in order per duration; cancelled ones never fire") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<int> fired;
  {
    TimeoutQueues q(&loop);
    Probe a(1, fired), b(2, fired), c(3, fired), d(4, fired);
    q.arm(a, 30);
    q.arm(b, 30);
    q.arm(c, 10);
    q.arm(d, 30);
    q.cancel(a);  // the head goes: its timer fires early and re-arms for b
    CHECK(!a.armed());
    CHECK(b.armed());
    // Keep the loop alive while the (unreferenced) queue timers run.
    uv_timer_t keep;
    uv_timer_init(&loop, &keep);
    uv_timer_start(
        &keep, [](uv_timer_t*) {}, 100, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(fired == std::vector<int>{3, 2, 4});
    q.arm(a, 5);
    uv_timer_start(
        &keep, [](uv_timer_t*) {}, 50, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(fired == std::vector<int>{3, 2, 4, 1});
    uv_close(reinterpret_cast<uv_handle_t*>(&keep), nullptr);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}
