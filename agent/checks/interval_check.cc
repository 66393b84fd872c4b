#include "agent/checks/interval_check.h"

#include <functional>

#include "common/log.h"
#include "common/random.h"

namespace cairn::checks {

namespace {

Nanos effective_interval(const std::string& id, Nanos interval) {
  if (interval >= kMinInterval) return interval;
  log::warn("checks", "check interval below the minimum, using it instead",
            {{"check", id},
             {"interval", format_duration(interval)},
             {"minimum", format_duration(kMinInterval)}});
  return kMinInterval;
}

}  // namespace

IntervalCheck::IntervalCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def,
                             Nanos default_timeout)
    : CheckRunner(std::move(id)),
      env_(env),
      interval_ms_(static_cast<uint64_t>(effective_interval(id_, def.interval) / kMillisecond)),
      timeout_(def.timeout > 0 ? def.timeout : default_timeout),
      output_max_(def.output_max_size > 0 ? static_cast<size_t>(def.output_max_size)
                                          : env.output_max_size),
      timer_(env.loop),
      thresholds_(def.success_before_passing, def.failures_before_warning,
                  def.failures_before_critical) {}

void IntervalCheck::start() {
  // Consul's lib.RandomStagger: uniform in [0, interval).
  timer_.start(random_below(interval_ms_), 0, [this] { run(); });
}

IntervalCheck::~IntervalCheck() {
  env_.timeouts.cancel(*this);
}

void IntervalCheck::run() {
  running_ = true;
  env_.timeouts.arm(*this, static_cast<uint64_t>((timeout_ + kMillisecond - 1) / kMillisecond));
  probe();
}

void IntervalCheck::on_timeout() {
  if (running_) timed_out();
}

void IntervalCheck::finish() {
  if (!running_) return;
  running_ = false;
  env_.timeouts.cancel(*this);
  timer_.start(interval_ms_, 0, [this] { run(); });
}

void IntervalCheck::report(std::string_view status, std::string_view output) {
  std::string_view s = thresholds_.filter(status);
  if (s.empty()) {
    log::debug("checks", "result held back by the check's thresholds",
               {{"check", id_}, {"status", status}});
    return;
  }
  // Most runs repeat the previous result, which changes nothing downstream:
  // skip the agent's lookups and comparisons then. A 64-bit hash of what was
  // reported, rather than a copy, keeps this at 8 bytes per check.
  uint64_t h = std::hash<std::string_view>{}(output)*31 + static_cast<unsigned char>(s[0]);
  if (reported_ && h == last_report_hash_) return;
  reported_ = true;
  last_report_hash_ = h;
  env_.sink(id_, s, output);
}

}  // namespace cairn::checks
