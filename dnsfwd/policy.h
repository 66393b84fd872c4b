// Upstream selection policies (dnsdist's lbpolicies): which upstream of a
// group gets the next attempt of a query. Pure: the caller passes each
// upstream's health and RTT and keeps the round-robin counter.
//
//   sequential   resolv.conf order: the first healthy upstream, so traffic
//                returns to the first one as soon as it is healthy again
//                (the failback users expect; systemd-resolved and CoreDNS do not)
//   round_robin  rotate the starting upstream per query
//   random       uniform among the healthy ones
//   fastest      lowest smoothed RTT; an upstream not measured yet counts as
//                fastest so that it gets measured
//
// Healthy upstreams not yet tried for this query come first, then down ones
// ("never fail closed": when everything is down, try anyway).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace cairn::dnsfwd {

enum class Policy : uint8_t { sequential, round_robin, random, fastest };

bool parse_policy(std::string_view text, Policy& out);
const char* policy_name(Policy p);

struct Candidate {
  bool up = true;
  bool can_send = true;  // its rate limit has a token
  uint32_t srtt_us = 0;  // 0: not measured yet
};

inline constexpr size_t kMaxGroupUpstreams = 64;  // tried sets are 64-bit masks

// Returns the index to try next, or -1 when every upstream allowed to send
// has been tried. start is the query's round-robin offset, random a random
// number; both are ignored by the policies that do not use them.
int pick_upstream(Policy policy, std::span<const Candidate> upstreams, uint64_t tried_mask,
                  uint32_t start, uint64_t random);

}  // namespace cairn::dnsfwd
