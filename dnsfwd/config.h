// /etc/cairn/dnsfwd.yaml decoded into one validated Config value.
//
// Pure: decode_config() takes a parsed document and never touches the
// network; reading the upstream files (resolv.upstream, resolv.conf) is done
// by upstream_source so that -check, start and SIGHUP all share one path and
// a reload can be validated whole before anything is swapped in.
// examples/dnsfwd.yaml documents every field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/value.h"
#include "dnsfwd/address.h"
#include "dnsfwd/policy.h"

namespace cairn::dnsfwd {

inline constexpr const char* kDefaultConfigPath = "/etc/cairn/dnsfwd.yaml";
inline constexpr const char* kResolvUpstreamPath = "/etc/cairn/resolv.upstream";
inline constexpr const char* kResolvConfPath = "/etc/resolv.conf";

// How answers from one group are cached. TTLs in seconds.
struct CacheRules {
  uint32_t min_ttl = 0;  // 0: honour the upstream's TTL, so TTL 0 is not cached
  uint32_t max_ttl = 86400;
  uint32_t negative_max_ttl = 3600;       // RFC 2308 TTL cap for NXDOMAIN/NODATA
  uint32_t negative_ttl_without_soa = 0;  // 0: a negative answer without SOA is not cached
  uint32_t servfail_ttl = 1;  // a short micro-cache so a failing name does not hammer upstreams
  bool serve_stale = true;    // RFC 8767, only when every upstream fails
  uint32_t stale_max_age = 86400;  // how long past expiry an answer may still be served
};

struct Timeouts {
  uint32_t initial_ms = 400;  // per attempt before any RTT is known (unbound: 376 ms)
  uint32_t min_ms = 50;       // lower clamp of the RTT-based per-attempt timeout
  uint32_t max_ms = 1500;     // upper clamp
  uint32_t total_ms = 2500;   // whole query, well inside glibc's 5 s per try
  uint32_t attempts = 3;      // upstream sends per query, the first included
};

struct HealthRules {
  uint32_t max_fails = 2;             // consecutive failures that mark an upstream down
  uint32_t probe_interval_ms = 1000;  // probing of a down upstream until it answers
  std::vector<uint8_t> probe_name;    // wire form; default "." (or the route's domain)
  uint16_t probe_type = 2;            // NS (SOA for agent routes)
};

// One set of upstreams with its policy: the default group (index 0) or a route's.
struct Group {
  std::string name;                       // "default" or the first domain of the route
  std::vector<Endpoint> servers;          // explicit; the default group may read files instead
  std::vector<std::string> server_files;  // default group only: first file with servers wins
  Policy policy = Policy::sequential;
  Timeouts timeouts;
  HealthRules health;
  CacheRules cache;
  uint32_t max_pending = 1024;  // in-flight upstream queries; beyond: stale or SERVFAIL
  uint32_t max_qps = 0;         // per upstream, 0 = unlimited (AWS VPC resolver: ~900)
  bool trust_ad = false;        // keep the AD bit of answers (else cleared)
  uint32_t udp_sockets = 0;     // per upstream; 0 = automatic (4 loopback, 16 otherwise)
  uint32_t rotate_after = 0;    // queries per socket before a new random port; 0 = automatic
};

// What an agent route changes from the general defaults: the agent answers
// from memory in microseconds and with TTL 0 unless configured otherwise,
// and a name that does not exist yet must appear as soon as it is registered.
void apply_agent_defaults(Group& g, const std::vector<uint8_t>& domain);

struct Route {
  std::vector<uint8_t> suffix;  // case-folded wire name
  std::string text;             // as written, for logs
  uint32_t group = 0;
};

struct ListenAddr {
  Endpoint endpoint;
  std::string text;
};

struct PrefetchRules {
  bool enabled = false;
  uint32_t min_ttl = 10;       // only answers cached at least this long
  uint32_t min_hits = 2;       // popular: hit at least this often since cached
  uint32_t percent_left = 10;  // refresh when less than this share of the TTL is left
};

struct CacheLimits {
  uint32_t max_entries = 10000;
  uint64_t max_bytes = 16u << 20;
  uint32_t stale_reply_ttl = 30;            // RFC 8767 §4
  uint32_t stale_answer_timeout_ms = 1800;  // RFC 8767 client-response timer
  uint32_t stale_refresh_backoff = 30;      // RFC 8767 failure recheck, seconds
  PrefetchRules prefetch;
};

struct Limits {
  uint16_t max_udp_size = 1232;   // largest UDP answer we send, whatever the client offers
  uint16_t edns_udp_size = 1232;  // advertised to upstreams and in our answers' OPT
  uint32_t tcp_max_connections = 256;
  uint32_t tcp_idle_timeout_ms = 10000;
  uint32_t tcp_max_in_flight = 64;      // per connection; reading pauses beyond it
  uint32_t max_waiters_per_query = 64;  // identical queries coalesced onto one upstream query
};

struct Config {
  std::string source;  // file it came from ("" for built-in defaults)
  std::vector<ListenAddr> listen;
  std::vector<Cidr> allow_networks;
  bool allow_loopback = true;       // only turned off to test the client rule on loopback
  std::optional<Endpoint> metrics;  // loopback HTTP for /metrics and /status
  std::string log_level = "info";
  bool log_json = false;
  std::vector<Group> groups;  // [0] is the default group
  std::vector<Route> routes;
  CacheLimits cache;
  Limits limits;
  uint32_t upstream_poll_ms = 2000;  // mtime poll of upstream files, beside inotify
};

// Built-in defaults: listen on 127.0.0.1:53 and [::1]:53, route consul to the
// agent on 127.0.0.1:8600, upstreams from /etc/cairn/resolv.upstream else
// /etc/resolv.conf.
Config default_config();

// Decodes a parsed dnsfwd.yaml on top of the defaults. Throws DecodeError
// naming file, line and field.
Config decode_config(const Value& doc, const std::string& file);

// Reads and decodes a file. Returns false with "file:line: field: message".
bool load_config(const std::string& path, Config& out, std::string& error);

}  // namespace cairn::dnsfwd
