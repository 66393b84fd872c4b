// What the DNS answer path needs from the agent's configuration, converted
// once (at start and on reload) into the forms the hot path uses: domains in
// wire format, TTLs in seconds, the service_ttl table split into exact names
// and prefixes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/config/config.h"

namespace cairn::dns {

struct Settings {
  // Domains, lower-cased. [0] is `domain`, [1] is `alt_domain` when set.
  std::vector<std::string> domains_text;  // "consul."
  std::vector<std::string> domains_wire;
  std::string datacenter;     // as configured (used in generated names)
  std::string datacenter_lc;  // for matching question labels
  std::string node_name;      // this agent's node: `Near: _agent` in prepared queries

  uint32_t node_ttl = 0;
  std::unordered_map<std::string, uint32_t> service_ttl_exact;         // lower-cased name
  std::vector<std::pair<std::string, uint32_t>> service_ttl_prefixes;  // longest first; "" is "*"

  bool only_passing = false;
  bool enable_truncate = false;
  int udp_answer_limit = 3;
  int a_record_limit = 0;
  bool compress = true;
  bool node_meta_txt = true;
  uint32_t soa_refresh = 3600, soa_retry = 600, soa_expire = 86400, soa_min_ttl = 0;
  bool recursion_available = false;  // RA: recursors are configured

  // Consul's rule: an exact name wins, else the longest "prefix*" key, else 0.
  uint32_t service_ttl(std::string_view lc_name) const;
};

// Builds the settings. Returns "" or an error naming the bad value.
std::string make_settings(const config::Config& cfg, Settings& out);

// Consul's hard cap on udp_answer_limit: about what fits 512 bytes.
inline constexpr int kMaxUdpAnswerLimit = 8;

}  // namespace cairn::dns
