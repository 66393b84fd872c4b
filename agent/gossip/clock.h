// The time source of the gossip core. The agent binds it to a libuv loop
// (UvClock); the simulator to a virtual clock, so thousands of nodes run in
// one process faster than real time and every run repeats exactly.
#pragma once

#include <cstdint>
#include <functional>

#include "agent/gossip/types.h"

namespace cairn::gossip {

class Clock {
 public:
  using TimerId = uint64_t;  // never 0, so 0 can mean "no timer"

  virtual ~Clock() = default;
  virtual Time now() const = 0;
  // Runs fn once, delay from now, unless cancelled first. A Clock never runs
  // a callback after it is destroyed.
  virtual TimerId schedule(Duration delay, std::function<void()> fn) = 0;
  // Cancelling a timer that already ran (or 0) is a no-op.
  virtual void cancel(TimerId id) = 0;
};

}  // namespace cairn::gossip
