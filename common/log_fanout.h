// Log monitors: readers of the agent's log lines as they happen
// (/v1/agent/monitor, `cairn monitor`), each at its own level and format.
//
// Any thread may log; a monitor is read on the loop that serves it. Each
// monitor buffers at most max_lines lines: a reader slower than the log
// loses lines rather than holding memory or the logging thread, and learns
// how many it lost (Consul's monitor drops the same way, 512 lines deep).
// With no monitor, logging pays one atomic load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "common/log.h"

namespace cairn::log {

class Monitor {
 public:
  // Consul's monitor buffer.
  static constexpr size_t kDefaultMaxLines = 512;

  // wake runs (on the logging thread, with the monitor's lock held: it must
  // only signal, e.g. uv_async_send) when a line arrives in an empty buffer.
  Monitor(Level level, bool json, size_t max_lines, std::function<void()> wake);
  // Stops delivery; wake never runs once the destructor has returned.
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  struct Taken {
    std::string text;      // whole lines, each ending in '\n'
    uint64_t dropped = 0;  // lines lost since the last take
  };
  // Takes buffered lines up to about max_bytes (at least one line).
  Taken take(size_t max_bytes);

  Level level() const { return level_; }
  bool json() const { return json_; }

  // Called by log::write for every event at or above capture_level().
  void offer(Level level, const std::string& line);
  void detach();

 private:
  const Level level_;
  const bool json_;
  const size_t max_lines_;
  std::mutex mu_;
  std::deque<std::string> lines_;
  uint64_t dropped_ = 0;
  std::function<void()> wake_;
};

// The lowest level any monitor wants (Level::off with none).
Level lowest_monitor_level();
// Recomputes capture_level() (log.cc) from the output's level and the monitors'.
void refresh_capture_level();
// Hands an event to every monitor that wants its level.
void publish_to_monitors(Level level, std::string_view module, std::string_view message,
                         std::span<const Field> fields);

}  // namespace cairn::log
