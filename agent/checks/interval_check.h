// The schedule every probing check (HTTP, TCP, UDP, gRPC, script) shares, as
// Consul runs them: the first run at a random moment inside the interval, so
// checks registered together do not all fire together; then one run at a
// time, the next an interval after the previous one ended, so a check never
// overlaps itself; every run bounded by the timeout. Results pass the
// success/failure thresholds before they reach the sink.
//
// One timer per check waits out the interval; run timeouts go to the
// agent's TimeoutQueues. Nothing blocks: a slow target only keeps its own
// check waiting.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/checks/check_runner.h"
#include "agent/checks/status_thresholds.h"
#include "agent/state/rows.h"
#include "common/duration.h"
#include "common/uv_handle.h"

namespace cairn::checks {

// Consul's MinInterval: shorter intervals are raised to it, with a warning.
inline constexpr Nanos kMinInterval = kSecond;
// Consul's timeout when none is given (HTTP, TCP, UDP, gRPC).
inline constexpr Nanos kDefaultTimeout = 10 * kSecond;

class IntervalCheck : public CheckRunner, private TimeoutQueues::Entry {
 protected:
  IntervalCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def,
                Nanos default_timeout = kDefaultTimeout);
  ~IntervalCheck() override;

  // Arms the first run; subclasses call it last in their constructor.
  void start();

  // One run: start probing, and end with finish() (from a callback or right away).
  virtual void probe() = 0;
  // The timeout hit while probing: stop, then finish(); or report() now and
  // finish() once the run's resources are gone (script checks wait for the child).
  virtual void timed_out() = 0;

  // A result through the thresholds to the sink (unless it repeats the last
  // one). Call it last: the sink may reach far (catalog writes, watchers).
  void report(std::string_view status, std::string_view output);
  // The run is over; the next one is an interval away.
  void finish();
  void finish(std::string_view status, std::string_view output) {
    finish();
    report(status, output);
  }
  bool running() const { return running_; }

  CheckEnv& env_;
  const uint64_t interval_ms_;
  const Nanos timeout_;
  // Consul's output_max_size for this check: its own, else the agent's.
  const size_t output_max_;

 private:
  void run();
  // TimeoutQueues::Entry
  void on_timeout() override;

  Timer timer_;
  StatusThresholds thresholds_;
  bool running_ = false;
  bool reported_ = false;
  uint64_t last_report_hash_ = 0;
};

}  // namespace cairn::checks
