// TTL check: the application reports its own health through
// /v1/agent/check/pass|warn|fail|update; if it stays silent for the TTL the
// check turns critical with output "TTL expired".
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>

#include "agent/checks/check_runner.h"
#include "common/duration.h"
#include "common/uv_handle.h"

namespace cairn::checks {

class TtlCheck : public CheckRunner {
 public:
  // expires_in_ms restores a persisted deadline; 0 starts a full TTL.
  TtlCheck(uv_loop_t* loop, std::string check_id, Nanos ttl, StatusSink sink,
           uint64_t expires_in_ms = 0);

  // Records a report from the application and restarts the TTL.
  void report(const std::string& status, std::string output);
  // Milliseconds (on the loop clock) at which the check expires.
  uint64_t deadline_ms() const { return deadline_ms_; }

 private:
  void arm(uint64_t ms);

  uv_loop_t* loop_;
  std::string id_;
  Nanos ttl_;
  StatusSink sink_;
  Timer timer_;
  uint64_t deadline_ms_ = 0;
};

}  // namespace cairn::checks
