// deregister_critical_service_after: a service whose check stayed critical
// for that long is deregistered, with all its checks. Consul's reaper: a
// timer every 30 s looks at the service checks that carry the setting;
// values under a minute are raised to a minute.
//
// Tests cannot wait minutes: CAIRN_CHECK_REAP_INTERVAL and
// CAIRN_CHECK_DEREGISTER_MIN (Go durations, undocumented for users) lower
// the interval and the minimum.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/duration.h"
#include "common/uv_handle.h"

namespace cairn::checks {

struct ReaperSettings {
  Nanos interval = 30 * kSecond;        // Consul's check_reap_interval
  Nanos minimum_timeout = 1 * kMinute;  // Consul's check_deregister_interval_min

  // Defaults, overridden by the environment variables above.
  static ReaperSettings from_environment();
};

class CriticalReaper {
 public:
  // Called with the service to deregister and the check that was critical too long.
  using Deregister =
      std::function<void(const std::string& service_id, const std::string& check_id)>;

  CriticalReaper(uv_loop_t* loop, ReaperSettings settings, Deregister deregister);

  // A service check with deregister_critical_service_after; status is its current one.
  void track(const std::string& check_id, const std::string& service_id, Nanos after,
             std::string_view status);
  void untrack(const std::string& check_id);
  void clear();
  // Every status a tracked check takes (others are ignored).
  void status(const std::string& check_id, std::string_view status);
  size_t tracked() const { return checks_.size(); }

  // One pass at time now_ms (the timer calls it; tests may too).
  void reap(uint64_t now_ms);

 private:
  struct Tracked {
    std::string service_id;
    uint64_t timeout_ms = 0;
    bool critical = false;
    uint64_t critical_since_ms = 0;
  };

  void arm();

  uv_loop_t* loop_;
  ReaperSettings settings_;
  Deregister deregister_;
  Timer timer_;
  std::map<std::string, Tracked> checks_;
};

}  // namespace cairn::checks
