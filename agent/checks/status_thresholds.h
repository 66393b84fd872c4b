// Consul's StatusHandler: success_before_passing, failures_before_warning and
// failures_before_critical. A result only reaches the check once enough of
// the same kind arrived in a row. Counters start at their thresholds, so the
// first result after (re)start applies at once, as in Consul.
#pragma once

#include <string_view>

namespace cairn::checks {

class StatusThresholds {
 public:
  // failures_before_warning 0 means "same as failures_before_critical" (Consul's default).
  StatusThresholds(int success_before_passing, int failures_before_warning,
                   int failures_before_critical);

  // The status to report for a raw result, or "" to hold it back.
  std::string_view filter(std::string_view status);

 private:
  int success_before_passing_;
  int failures_before_warning_;
  int failures_before_critical_;
  int successes_;
  int failures_;
};

}  // namespace cairn::checks
