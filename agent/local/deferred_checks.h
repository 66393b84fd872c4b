// The checks whose output-only changes wait for check_update_interval, with
// the loop time each becomes due. One ordered queue and one timer for all of
// them (an agent may run 10,000 checks) instead of a timer per check. Pure:
// the caller passes the time and arms its timer for next_due().
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace cairn::local {

class DeferredChecks {
 public:
  // Schedules id at due_ms unless it is already waiting (an earlier change
  // keeps its turn, as Consul's timer does). True when newly scheduled.
  bool schedule(const std::string& id, uint64_t due_ms);
  // Drops id (synced some other way, or gone). True when it was waiting.
  bool cancel(const std::string& id);
  bool pending(const std::string& id) const { return due_.count(id) > 0; }
  size_t size() const { return due_.size(); }
  std::optional<uint64_t> next_due() const;
  // Removes and returns the IDs due at now_ms, earliest first.
  std::vector<std::string> take_due(uint64_t now_ms);

 private:
  std::map<std::string, uint64_t> due_;
  std::set<std::pair<uint64_t, std::string>> queue_;
};

}  // namespace cairn::local
