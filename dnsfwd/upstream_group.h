// A running group of upstreams: its configuration, its Upstream objects and
// the counters its policy needs. In-flight queries hold a shared_ptr to the
// group they started with, so a reload that replaces a group lets them
// finish against the old upstreams while new queries use the new ones.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnsfwd/config.h"
#include "dnsfwd/policy.h"
#include "dnsfwd/upstream.h"

namespace cairn::dnsfwd {

struct GroupRuntime {
  Group config;
  std::vector<std::shared_ptr<Upstream>> upstreams;
  uint32_t rr_counter = 0;
  uint32_t pending = 0;  // transactions in flight for this group
  std::string source;    // where the servers came from ("config" or a file path)

  // Next upstream to try for a query (see policy.h), or -1.
  int pick(uint64_t tried_mask, uint32_t rr_start, uint64_t random, uint64_t now_ms) {
    Candidate c[kMaxGroupUpstreams];
    size_t n = std::min(upstreams.size(), kMaxGroupUpstreams);
    for (size_t i = 0; i < n; ++i) {
      Upstream& u = *upstreams[i];
      c[i].up = u.health().up();
      c[i].can_send = u.bucket().available(now_ms);
      c[i].srtt_us = u.health().srtt_us();
    }
    return pick_upstream(config.policy, std::span<const Candidate>(c, n), tried_mask, rr_start,
                         random);
  }

  // What answers depend on: a cached answer stays valid across a reload
  // only if its group's servers and cache rules are unchanged.
  std::string signature() const {
    std::string s;
    for (const auto& u : upstreams) s += u->address() + ",";
    const CacheRules& r = config.cache;
    s += "|" + std::to_string(r.min_ttl) + "/" + std::to_string(r.max_ttl) + "/" +
         std::to_string(r.negative_max_ttl) + "/" + std::to_string(r.negative_ttl_without_soa) +
         "/" + std::to_string(config.trust_ad);
    return s;
  }
};

}  // namespace cairn::dnsfwd
