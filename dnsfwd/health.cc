#include "dnsfwd/health.h"

#include <algorithm>

namespace cairn::dnsfwd {

HealthChange Health::on_answer(uint64_t rtt_us) {
  uint32_t r = static_cast<uint32_t>(std::min<uint64_t>(rtt_us, 60'000'000));
  if (srtt_us_ == 0) {
    srtt_us_ = std::max<uint32_t>(r, 1);
    rttvar_us_ = r / 2;
  } else {
    uint32_t diff = srtt_us_ > r ? srtt_us_ - r : r - srtt_us_;
    rttvar_us_ = (3 * rttvar_us_ + diff) / 4;
    srtt_us_ = std::max<uint32_t>((7 * srtt_us_ + r) / 8, 1);
  }
  failures_ = 0;
  if (!up_) {
    up_ = true;
    return HealthChange::came_up;
  }
  return HealthChange::none;
}

HealthChange Health::on_failure() {
  ++failures_;
  if (up_ && failures_ >= rules_.max_fails) {
    up_ = false;
    next_probe_ms_ = 0;  // probe at the next tick
    return HealthChange::went_down;
  }
  return HealthChange::none;
}

uint32_t Health::attempt_timeout_ms() const {
  uint64_t ms = timeouts_.initial_ms;
  if (srtt_us_ != 0) ms = (uint64_t{srtt_us_} + 4 * uint64_t{rttvar_us_} + 999) / 1000;
  ms <<= std::min<uint32_t>(failures_, 3);
  return static_cast<uint32_t>(std::clamp<uint64_t>(ms, timeouts_.min_ms, timeouts_.max_ms));
}

}  // namespace cairn::dnsfwd
