// Clock on a libuv loop: monotonic nanoseconds from uv_hrtime (probe round
// trips feed Vivaldi, so milliseconds are too coarse) and one uv_timer per
// scheduled callback.
#pragma once

#include <uv.h>

#include <memory>
#include <unordered_map>
#include <vector>

#include "agent/gossip/clock.h"
#include "common/uv_handle.h"

namespace cairn::gossip {

class UvClock : public Clock {
 public:
  explicit UvClock(uv_loop_t* loop) : loop_(loop) {}
  ~UvClock() override = default;  // the timers close with their handles

  // Clock
  Time now() const override { return Time(int64_t(uv_hrtime())); }
  TimerId schedule(Duration delay, std::function<void()> fn) override;
  void cancel(TimerId id) override;

 private:
  uv_loop_t* loop_;
  TimerId next_id_ = 0;
  std::unordered_map<TimerId, std::unique_ptr<Timer>> timers_;
  std::vector<std::unique_ptr<Timer>> spent_;  // fired, freed when the next one fires
};

}  // namespace cairn::gossip
