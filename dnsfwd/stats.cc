#include "dnsfwd/stats.h"

namespace cairn::dnsfwd {

namespace {
constexpr const char* kQueries = "cairn.dnsfwd.queries_total";
constexpr const char* kAnswers = "cairn.dnsfwd.answers_total";
}  // namespace

Stats::Stats(MetricsRegistry& r)
    : queries_udp(r.counter(kQueries, "Client queries received", {{"transport", "udp"}})),
      queries_tcp(r.counter(kQueries, "Client queries received", {{"transport", "tcp"}})),
      cache_hits(
          r.counter("cairn.dnsfwd.cache_hits_total", "Queries answered from a fresh cache entry")),
      cache_misses(r.counter("cairn.dnsfwd.cache_misses_total",
                             "Queries not answerable from a fresh cache entry")),
      stale_served(
          r.counter("cairn.dnsfwd.cache_stale_served_total",
                    "Answers served stale (RFC 8767) because upstreams failed or were slow")),
      prefetches(r.counter("cairn.dnsfwd.cache_prefetches_total",
                           "Popular entries refreshed before expiry")),
      coalesced(r.counter("cairn.dnsfwd.coalesced_total",
                          "Queries joined to an identical query already in flight")),
      malformed_queries(
          r.counter("cairn.dnsfwd.malformed_queries_total", "Client packets dropped as malformed")),
      refused_clients(
          r.counter("cairn.dnsfwd.refused_clients_total",
                    "Queries refused because the client is outside the allowed networks")),
      not_implemented(r.counter(
          "cairn.dnsfwd.not_implemented_total",
          "Queries answered NOTIMP/FORMERR/BADVERS (opcode, zone transfer, EDNS version)")),
      overflow(r.counter("cairn.dnsfwd.pending_overflow_total",
                         "Queries beyond a group's max_pending, answered stale or SERVFAIL")),
      waiters_overflow(
          r.counter("cairn.dnsfwd.waiters_overflow_total",
                    "Identical queries beyond max_waiters_per_query, answered SERVFAIL")),
      all_failed(r.counter("cairn.dnsfwd.all_upstreams_failed_total",
                           "Queries for which every upstream attempt failed")),
      servfail_sent(r.counter("cairn.dnsfwd.servfail_sent_total",
                              "SERVFAIL answers made by the forwarder itself")),
      truncated_sent(r.counter("cairn.dnsfwd.truncated_answers_total",
                               "UDP answers cut to the client's size with TC set")),
      udp_send_drops(r.counter("cairn.dnsfwd.udp_send_drops_total",
                               "UDP answers dropped because the socket buffer was full")),
      ttl_clamped(r.counter("cairn.dnsfwd.ttl_clamped_total",
                            "Answers whose TTLs were raised or lowered by min/max clamps")),
      rcode_noerror(
          r.counter(kAnswers, "Answers sent to clients by rcode", {{"rcode", "NOERROR"}})),
      rcode_nxdomain(
          r.counter(kAnswers, "Answers sent to clients by rcode", {{"rcode", "NXDOMAIN"}})),
      rcode_servfail(
          r.counter(kAnswers, "Answers sent to clients by rcode", {{"rcode", "SERVFAIL"}})),
      rcode_refused(
          r.counter(kAnswers, "Answers sent to clients by rcode", {{"rcode", "REFUSED"}})),
      rcode_other(r.counter(kAnswers, "Answers sent to clients by rcode", {{"rcode", "other"}})),
      tcp_connections(
          r.counter("cairn.dnsfwd.tcp_connections_total", "Client TCP connections accepted")),
      tcp_rejected(r.counter("cairn.dnsfwd.tcp_rejected_total",
                             "Client TCP connections closed at once (limit or client rule)")),
      tcp_slow_readers(r.counter("cairn.dnsfwd.tcp_slow_readers_total",
                                 "Client TCP connections closed with too many unread answers")),
      reloads(r.counter("cairn.dnsfwd.reloads_total", "Successful configuration reloads")),
      reload_failures(r.counter("cairn.dnsfwd.reload_failures_total",
                                "Reloads rejected; the running configuration stayed")),
      upstream_file_changes(r.counter("cairn.dnsfwd.upstream_file_changes_total",
                                      "Upstream lists re-read from a changed file")),
      in_flight(r.gauge("cairn.dnsfwd.in_flight", "Upstream queries in flight")),
      cache_entries(r.gauge("cairn.dnsfwd.cache_entries", "Entries in the cache")),
      cache_bytes(r.gauge("cairn.dnsfwd.cache_bytes", "Bytes held by the cache")),
      cache_evictions(r.counter("cairn.dnsfwd.cache_evictions_total",
                                "Entries evicted by the entry or byte limit")),
      cache_expired(r.counter("cairn.dnsfwd.cache_expired_total",
                              "Entries removed after their stale window")),
      cache_inserts(r.counter("cairn.dnsfwd.cache_inserts_total", "Entries inserted")) {}

}  // namespace cairn::dnsfwd
