#include "agent/gossip/uv_clock.h"

namespace cairn::gossip {

Clock::TimerId UvClock::schedule(Duration delay, std::function<void()> fn) {
  const TimerId id = ++next_id_;
  auto timer = std::make_unique<Timer>(loop_);
  // libuv timers count whole milliseconds from the loop's cached time:
  // round up so a timer never fires before its delay has passed.
  const int64_t ns = std::max<int64_t>(0, delay.count());
  const uint64_t ms = uint64_t((ns + 999'999) / 1'000'000);
  timer->start(ms, 0, [this, id, fn = std::move(fn)] {
    auto it = timers_.find(id);
    if (it == timers_.end()) return;
    // This lambda lives inside its Timer: park the Timer until the next
    // timer fires (timers that ran before this one are done: free them).
    spent_.clear();
    spent_.push_back(std::move(it->second));
    timers_.erase(it);
    fn();
  });
  timers_.emplace(id, std::move(timer));
  return id;
}

void UvClock::cancel(TimerId id) {
  timers_.erase(id);
}

}  // namespace cairn::gossip
