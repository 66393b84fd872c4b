#include "agent/gossip/sim/sim_world.h"

#include <algorithm>

namespace cairn::gossip::sim {

uint64_t SimWorld::schedule_with_id(uint64_t id, Time at, std::function<void()> fn) {
  heap_.push_back(Event{std::max(at, now_), id, std::move(fn)});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  return id;
}

void SimWorld::cancel(uint64_t id) {
  if (id != 0) cancelled_.insert(id);
}

void SimWorld::run_until(Time until) {
  while (!heap_.empty() && heap_.front().at <= until) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    Event ev = std::move(heap_.back());
    heap_.pop_back();
    if (!cancelled_.empty() && cancelled_.erase(ev.id)) continue;
    now_ = ev.at;
    ++events_run_;
    ev.fn();
  }
  now_ = std::max(now_, until);
}

SimClock::~SimClock() {
  for (auto id : live_) world_.cancel(id);
}

Clock::TimerId SimClock::schedule(Duration delay, std::function<void()> fn) {
  const uint64_t id = world_.reserve_id();
  world_.schedule_with_id(id, world_.now() + delay, [this, id, fn = std::move(fn)] {
    live_.erase(id);
    fn();
  });
  live_.insert(id);
  return id;
}

void SimClock::cancel(TimerId id) {
  if (live_.erase(id)) world_.cancel(id);
}

}  // namespace cairn::gossip::sim
