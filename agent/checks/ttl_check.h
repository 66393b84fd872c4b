// TTL check: the application reports its own health through
// /v1/agent/check/pass|warn|fail|update; if it stays silent for the TTL the
// check turns critical with Consul's output ("TTL expired", followed by the
// last output when there was one). The deadline survives restarts: the
// agent persists it and hands the remainder back here.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/checks/check_runner.h"
#include "common/duration.h"
#include "common/uv_handle.h"

namespace cairn::checks {

class TtlCheck : public CheckRunner {
 public:
  // expires_in_ms restores a persisted deadline (0 starts a full TTL);
  // last_output is the output the check had, for the expiry message.
  TtlCheck(CheckEnv& env, std::string check_id, Nanos ttl, uint64_t expires_in_ms = 0,
           std::string last_output = {}, size_t output_max_size = 0);

  // Records a report from the application and restarts the TTL. Output over
  // output_max_size is cut as Consul cuts it.
  void report(std::string_view status, std::string_view output);
  // Milliseconds (on the loop clock) at which the check expires.
  uint64_t deadline_ms() const { return deadline_ms_; }

 private:
  void arm(uint64_t ms);
  void expire();

  CheckEnv& env_;
  Nanos ttl_;
  Timer timer_;
  uint64_t deadline_ms_ = 0;
  std::string last_output_;
  std::string output_;
  size_t output_max_;  // the check's own limit, else the agent's
};

}  // namespace cairn::checks
