// At most one log line per interval for a recurring event, and the number of
// events the quiet time swallowed, so that a flood (an upstream refusing
// every query with an ICMP error) costs one line a second instead of one per
// packet, and the first event of a calm period is always logged at once.
// Pure: the caller passes the time.
#pragma once

#include <cstdint>

namespace cairn::dnsfwd {

class LogThrottle {
 public:
  explicit LogThrottle(uint64_t interval_ms) : interval_ms_(interval_ms) {}

  // True when this event gets its line; suppressed() then tells how many
  // events went unlogged since the previous line.
  bool allow(uint64_t now_ms) {
    if (logged_once_ && now_ms - last_line_ms_ < interval_ms_) {
      ++unlogged_;
      return false;
    }
    logged_once_ = true;
    last_line_ms_ = now_ms;
    suppressed_ = unlogged_;
    unlogged_ = 0;
    return true;
  }
  uint64_t suppressed() const { return suppressed_; }

 private:
  uint64_t interval_ms_;
  uint64_t last_line_ms_ = 0;
  uint64_t unlogged_ = 0;    // since the last line
  uint64_t suppressed_ = 0;  // reported with the last line
  bool logged_once_ = false;
};

}  // namespace cairn::dnsfwd
