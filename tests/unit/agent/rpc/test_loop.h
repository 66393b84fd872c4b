// A private libuv loop for one test, run until a condition holds (bounded).
#pragma once

#include <doctest/doctest.h>
#include <uv.h>

#include <chrono>
#include <csignal>
#include <functional>

#include "common/uv_handle.h"

namespace cairn::rpc::test {

struct TestLoop {
  uv_loop_t loop{};
  TestLoop() {
    uv_loop_init(&loop);
    std::signal(SIGPIPE, SIG_IGN);  // as the agent does: a peer's close is not fatal
  }
  ~TestLoop() {
    // Close callbacks of what the test destroyed run here.
    for (int i = 0; i < 100 && uv_run(&loop, UV_RUN_NOWAIT) != 0; ++i) {
    }
    uv_loop_close(&loop);
  }
  uv_loop_t* get() { return &loop; }

  // Runs the loop until done() is true; false when ms passed first.
  bool run_until(const std::function<bool()>& done, uint64_t ms = 10'000) {
    Timer wake(&loop);  // RUN_ONCE returns at least this often
    wake.start(5, 5, [] {});
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      uv_run(&loop, UV_RUN_ONCE);
    }
    return true;
  }
  // Lets the loop turn for ms (to show that something does NOT happen).
  void run_for(uint64_t ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    run_until([&] { return std::chrono::steady_clock::now() >= end; }, ms + 1000);
  }
};

}  // namespace cairn::rpc::test
