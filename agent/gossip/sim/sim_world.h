// Virtual time for the gossip simulator: one event queue for a whole fleet,
// so thousands of nodes run deterministically in one process, faster than
// real time. SimClock is one node's view of it (its timers die with it).
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_set>
#include <vector>

#include "agent/gossip/clock.h"

namespace cairn::gossip::sim {

class SimWorld {
 public:
  Time now() const { return now_; }
  uint64_t schedule_at(Time at, std::function<void()> fn) {
    return schedule_with_id(++next_id_, at, std::move(fn));
  }
  // For callers that must know the id inside the callback.
  uint64_t reserve_id() { return ++next_id_; }
  uint64_t schedule_with_id(uint64_t id, Time at, std::function<void()> fn);
  void cancel(uint64_t id);
  // Runs events in time order until none is left before `until` (or the
  // queue is empty); now() ends at `until`.
  void run_until(Time until);
  size_t pending() const { return heap_.size(); }
  uint64_t events_run() const { return events_run_; }

 private:
  struct Event {
    Time at;
    uint64_t id;
    std::function<void()> fn;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.at != b.at ? a.at > b.at : a.id > b.id;
    }
  };
  Time now_{};
  uint64_t next_id_ = 0;
  uint64_t events_run_ = 0;
  std::vector<Event> heap_;
  std::unordered_set<uint64_t> cancelled_;
};

class SimClock : public Clock {
 public:
  explicit SimClock(SimWorld& world) : world_(world) {}
  ~SimClock() override;
  Time now() const override { return world_.now(); }
  TimerId schedule(Duration delay, std::function<void()> fn) override;
  void cancel(TimerId id) override;

 private:
  SimWorld& world_;
  std::unordered_set<uint64_t> live_;
};

}  // namespace cairn::gossip::sim
