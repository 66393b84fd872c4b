// Per-upstream health and round-trip time (dnsdist's healthchecks plus the
// RTT estimator of RFC 6298). Pure state: the caller reports answers and
// failures with their times; probing a down upstream is the upstream shell's
// job, driven by probe_due().
//
// Passive: every answer resets the failure count and feeds the RTT average;
// every timeout, socket error or malformed answer counts one failure, and
// max_fails in a row mark the upstream down. A down upstream is probed every
// probe_interval and is up again on the first answer of any kind (even
// SERVFAIL proves the server is there).
#pragma once

#include <cstdint>

#include "dnsfwd/config.h"

namespace cairn::dnsfwd {

enum class HealthChange : uint8_t { none, went_down, came_up };

class Health {
 public:
  Health(const HealthRules& rules, const Timeouts& timeouts) : rules_(rules), timeouts_(timeouts) {}

  void reconfigure(const HealthRules& rules, const Timeouts& timeouts) {
    rules_ = rules;
    timeouts_ = timeouts;
  }

  HealthChange on_answer(uint64_t rtt_us);
  HealthChange on_failure();

  bool up() const { return up_; }
  uint32_t consecutive_failures() const { return failures_; }
  uint32_t srtt_us() const { return srtt_us_; }
  uint32_t rttvar_us() const { return rttvar_us_; }

  // Per-attempt timeout: srtt + 4 * rttvar clamped to [min, max]; the
  // initial value until a first answer; doubled per failure in a row (Karn).
  uint32_t attempt_timeout_ms() const;

  bool probe_due(uint64_t now_ms) const { return !up_ && now_ms >= next_probe_ms_; }
  void probe_sent(uint64_t now_ms) { next_probe_ms_ = now_ms + rules_.probe_interval_ms; }

  const HealthRules& rules() const { return rules_; }

 private:
  HealthRules rules_;
  Timeouts timeouts_;
  bool up_ = true;
  uint32_t failures_ = 0;
  uint32_t srtt_us_ = 0;  // 0: no sample yet
  uint32_t rttvar_us_ = 0;
  uint64_t next_probe_ms_ = 0;
};

}  // namespace cairn::dnsfwd
