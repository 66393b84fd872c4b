// Answers on their way from an upstream to clients, in two pure steps.
//
// prepare(): an upstream answer becomes the stored form the cache keeps and
// every waiting client is served from: the OPT record is removed (EDNS is
// hop by hop; each client gets its own), AA is cleared (we are not the
// authority), AD is cleared unless the group trusts its upstreams, TTLs are
// clamped per the group's rules, and the cache lifetime is decided: the
// smallest TTL of a positive answer, RFC 2308's min(SOA TTL, SOA MINIMUM) for
// NXDOMAIN/NODATA, a short micro-cache for SERVFAIL, nothing for truncated or
// refused answers. An answer with TTL 0 (the Consul agent's default) gets
// lifetime 0 and is not cached.
//
// compose(): one client's copy: its ID, RD and CD bits, its spelling of the
// name (0x20 case), TTLs counted down by the entry's age (or fixed for stale
// answers), its own OPT record, and cut to whole RRsets with TC set when the
// result is larger than the client accepts (512 bytes without EDNS, else its
// advertised size capped by ours). dnsmasq 2.90 sends oversize forwarded
// answers; this never does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/dns/message.h"
#include "dnsfwd/config.h"

namespace cairn::dnsfwd {

enum class AnswerKind : uint8_t { positive, negative, servfail, uncacheable };

struct Prepared {
  size_t len = 0;         // the stored form's length (it is shorter or equal)
  uint32_t lifetime = 0;  // seconds it may be cached; 0: do not cache
  uint8_t ext_rcode = 0;  // upper rcode bits from the upstream's OPT
  AnswerKind kind = AnswerKind::uncacheable;
  bool ttl_clamped = false;
  std::vector<uint16_t> ttl_offsets;  // reused between calls
};

// Rewrites msg (already scanned into m and rrs) into its stored form in place.
void prepare(uint8_t* msg, const dns::Message& m, const std::vector<dns::Rr>& rrs,
             const CacheRules& rules, bool trust_ad, Prepared& out);

// What one client asked, as far as the answer depends on it.
struct ClientAsk {
  uint16_t id = 0;
  uint16_t flags = 0;              // the query's flag word: RD, CD and AD are echoed
  const uint8_t* qname = nullptr;  // the client's own spelling
  size_t qname_len = 0;
  bool edns = false;
  bool do_bit = false;
  size_t limit = dns::kClassicUdpSize;  // largest reply it accepts, OPT included
};

struct StoredView {
  const uint8_t* msg = nullptr;
  size_t len = 0;
  const uint16_t* ttl_offsets = nullptr;
  size_t ttl_count = 0;
  uint8_t ext_rcode = 0;
};

// Writes the client's answer into out (cap bytes, at least ask.limit or the
// stored length). age_or_ttl is subtracted from each TTL, or, with fixed_ttl,
// written as every TTL (serve-stale). scratch vectors avoid allocation.
// Returns the length written, 0 if out is too small.
size_t compose(const StoredView& stored, uint32_t age_or_ttl, bool fixed_ttl, const ClientAsk& ask,
               uint16_t our_udp_size, uint8_t* out, size_t cap, dns::Message& scratch,
               std::vector<dns::Rr>& scratch_rrs);

// The size limit for a UDP client: 512 without EDNS, else its advertised
// size (at least 512), never more than max_udp_size.
inline size_t udp_limit(bool edns, uint16_t advertised, uint16_t max_udp_size) {
  size_t want = edns ? (advertised < dns::kClassicUdpSize ? dns::kClassicUdpSize : advertised)
                     : dns::kClassicUdpSize;
  size_t cap = max_udp_size < dns::kClassicUdpSize ? dns::kClassicUdpSize : max_udp_size;
  return want < cap ? want : cap;
}

}  // namespace cairn::dnsfwd
