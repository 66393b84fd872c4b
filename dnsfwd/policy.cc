#include "dnsfwd/policy.h"

namespace cairn::dnsfwd {

bool parse_policy(std::string_view t, Policy& out) {
  if (t == "sequential" || t == "strict_order" || t == "first")
    out = Policy::sequential;
  else if (t == "round_robin" || t == "roundrobin")
    out = Policy::round_robin;
  else if (t == "random")
    out = Policy::random;
  else if (t == "fastest" || t == "lowest_rtt")
    out = Policy::fastest;
  else
    return false;
  return true;
}

const char* policy_name(Policy p) {
  switch (p) {
    case Policy::sequential:
      return "sequential";
    case Policy::round_robin:
      return "round_robin";
    case Policy::random:
      return "random";
    case Policy::fastest:
      return "fastest";
  }
  return "?";
}

int pick_upstream(Policy policy, std::span<const Candidate> ups, uint64_t tried, uint32_t start,
                  uint64_t random) {
  size_t n = ups.size() < kMaxGroupUpstreams ? ups.size() : kMaxGroupUpstreams;
  if (n == 0) return -1;
  // Two passes: healthy upstreams first, then the ones marked down.
  for (int pass = 0; pass < 2; ++pass) {
    bool want_up = pass == 0;
    auto eligible = [&](size_t i) {
      return !(tried & (uint64_t{1} << i)) && ups[i].can_send && ups[i].up == want_up;
    };
    switch (policy) {
      case Policy::sequential:
        for (size_t i = 0; i < n; ++i)
          if (eligible(i)) return static_cast<int>(i);
        break;
      case Policy::round_robin:
        for (size_t k = 0; k < n; ++k) {
          size_t i = (start + k) % n;
          if (eligible(i)) return static_cast<int>(i);
        }
        break;
      case Policy::random: {
        size_t count = 0;
        for (size_t i = 0; i < n; ++i) count += eligible(i);
        if (count == 0) break;
        size_t chosen = random % count;
        for (size_t i = 0; i < n; ++i)
          if (eligible(i) && chosen-- == 0) return static_cast<int>(i);
        break;
      }
      case Policy::fastest: {
        int best = -1;
        for (size_t i = 0; i < n; ++i) {
          if (!eligible(i)) continue;
          if (best < 0 || ups[i].srtt_us < ups[static_cast<size_t>(best)].srtt_us)
            best = static_cast<int>(i);
        }
        if (best >= 0) return best;
        break;
      }
    }
  }
  return -1;
}

}  // namespace cairn::dnsfwd
