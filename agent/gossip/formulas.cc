#include "agent/gossip/formulas.h"

#include <cmath>

namespace cairn::gossip {

Duration suspicion_timeout(int suspicion_mult, int n, Duration interval) {
  const double scale = std::max(1.0, std::log10(std::max(1.0, double(n))));
  const auto milli = static_cast<int64_t>(scale * 1000);
  return Duration(int64_t(suspicion_mult) * milli * interval.count() / 1000);
}

Duration remaining_suspicion_time(int c, int k, Duration elapsed, Duration min, Duration max) {
  const double frac = std::log(double(c) + 1.0) / std::log(double(k) + 1.0);
  const double max_s = std::chrono::duration<double>(max).count();
  const double min_s = std::chrono::duration<double>(min).count();
  const double raw = max_s - frac * (max_s - min_s);
  Duration timeout = std::chrono::milliseconds(int64_t(std::floor(1000.0 * raw)));
  if (timeout < min) timeout = min;
  return timeout - elapsed;
}

int retransmit_limit(int retransmit_mult, int n) {
  return retransmit_mult * int(std::ceil(std::log10(double(n + 1))));
}

Duration push_pull_scale(Duration interval, int n) {
  constexpr int kThreshold = 32;
  if (n <= kThreshold) return interval;
  const double mult = std::ceil(std::log2(double(n)) - std::log2(double(kThreshold))) + 1.0;
  return interval * int64_t(mult);
}

}  // namespace cairn::gossip
