#include "common/log_fanout.h"

#include <algorithm>
#include <atomic>
#include <vector>

namespace cairn::log {

namespace {

// The registry of monitors. A monitor's own lock nests inside this one.
struct Registry {
  std::mutex mu;
  std::vector<Monitor*> monitors;
  std::atomic<Level> lowest{Level::off};
};

Registry& registry() {
  static Registry r;  // never destroyed before the threads that log
  return r;
}

Level lowest_of(const std::vector<Monitor*>& monitors) {
  Level l = Level::off;
  for (const Monitor* m : monitors) l = std::min(l, m->level());
  return l;
}

}  // namespace

Monitor::Monitor(Level level, bool json, size_t max_lines, std::function<void()> wake)
    : level_(level),
      json_(json),
      max_lines_(std::max<size_t>(max_lines, 1)),
      wake_(std::move(wake)) {
  Registry& r = registry();
  {
    std::lock_guard lock(r.mu);
    r.monitors.push_back(this);
    r.lowest.store(lowest_of(r.monitors), std::memory_order_relaxed);
  }
  refresh_capture_level();
}

Monitor::~Monitor() {
  detach();
}

void Monitor::detach() {
  Registry& r = registry();
  {
    // Under the registry lock no publisher is between finding this monitor
    // and offering to it: after this block none can reach it.
    std::lock_guard lock(r.mu);
    auto it = std::find(r.monitors.begin(), r.monitors.end(), this);
    if (it == r.monitors.end()) return;
    r.monitors.erase(it);
    r.lowest.store(lowest_of(r.monitors), std::memory_order_relaxed);
  }
  {
    std::lock_guard lock(mu_);
    wake_ = nullptr;
  }
  refresh_capture_level();
}

void Monitor::offer(Level level, const std::string& line) {
  if (level < level_) return;
  std::lock_guard lock(mu_);
  if (lines_.size() >= max_lines_) {
    ++dropped_;
    return;
  }
  bool was_empty = lines_.empty();
  lines_.push_back(line);
  if (was_empty && wake_) wake_();
}

Monitor::Taken Monitor::take(size_t max_bytes) {
  Taken out;
  std::lock_guard lock(mu_);
  while (!lines_.empty() &&
         (out.text.empty() || out.text.size() + lines_.front().size() < max_bytes)) {
    out.text += lines_.front();
    out.text += '\n';
    lines_.pop_front();
  }
  out.dropped = dropped_;
  dropped_ = 0;
  return out;
}

Level lowest_monitor_level() {
  return registry().lowest.load(std::memory_order_relaxed);
}

void publish_to_monitors(Level level, std::string_view module, std::string_view message,
                         std::span<const Field> fields) {
  Registry& r = registry();
  if (level < r.lowest.load(std::memory_order_relaxed)) return;
  std::lock_guard lock(r.mu);
  // Formatted at most once per format, and only if some monitor wants it.
  std::string plain, json;
  for (Monitor* m : r.monitors) {
    if (level < m->level()) continue;
    std::string& line = m->json() ? json : plain;
    if (line.empty()) line = format_line(m->json(), level, module, message, fields);
    m->offer(level, line);
  }
}

}  // namespace cairn::log
