#include "agent/checks/status_thresholds.h"

#include <algorithm>

#include "agent/state/rows.h"

namespace cairn::checks {

StatusThresholds::StatusThresholds(int success_before_passing, int failures_before_warning,
                                   int failures_before_critical)
    : success_before_passing_(success_before_passing),
      failures_before_warning_(failures_before_warning ? failures_before_warning
                                                       : failures_before_critical),
      failures_before_critical_(failures_before_critical),
      successes_(success_before_passing),
      failures_(failures_before_critical) {}

std::string_view StatusThresholds::filter(std::string_view status) {
  if (status == state::kPassing || status == state::kWarning) {
    // Warning counts as a success: the service answered.
    if (successes_ < success_before_passing_) ++successes_;
    failures_ = 0;
    return successes_ >= success_before_passing_ ? status : std::string_view{};
  }
  // Saturate: only comparisons with the thresholds matter, and runs are unbounded.
  if (failures_ <= std::max(failures_before_critical_, failures_before_warning_)) ++failures_;
  successes_ = 0;
  if (failures_ >= failures_before_critical_) return state::kCritical;
  if (failures_ >= failures_before_warning_) return state::kWarning;
  return {};
}

}  // namespace cairn::checks
