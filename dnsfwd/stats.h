// The forwarder's own counters, registered once in the metrics registry so
// the hot path bumps a plain integer (one loop, no atomics). Per-upstream
// counters live with each upstream (upstream.h).
#pragma once

#include "common/metrics.h"

namespace cairn::dnsfwd {

struct Stats {
  explicit Stats(MetricsRegistry& r);

  Counter& queries_udp;
  Counter& queries_tcp;
  Counter& cache_hits;
  Counter& cache_misses;
  Counter& stale_served;
  Counter& prefetches;
  Counter& coalesced;
  Counter& malformed_queries;
  Counter& refused_clients;
  Counter& not_implemented;
  Counter& overflow;          // pending bound reached: answered stale or SERVFAIL
  Counter& waiters_overflow;  // too many identical queries waiting
  Counter& all_failed;        // every upstream failed or timed out
  Counter& servfail_sent;
  Counter& truncated_sent;  // answers cut to the client's size with TC
  Counter& udp_send_drops;  // socket buffer full
  Counter& ttl_clamped;
  Counter& rcode_noerror;
  Counter& rcode_nxdomain;
  Counter& rcode_servfail;
  Counter& rcode_refused;
  Counter& rcode_other;
  Counter& tcp_connections;
  Counter& tcp_rejected;
  Counter& tcp_slow_readers;  // closed with too many unread answers queued
  Counter& reloads;
  Counter& reload_failures;
  Counter& upstream_file_changes;
  Gauge& in_flight;
  Gauge& cache_entries;
  Gauge& cache_bytes;
  Counter& cache_evictions;  // copied from the cache's own counts at scrape time
  Counter& cache_expired;
  Counter& cache_inserts;

  void count_rcode(uint16_t rcode) {
    switch (rcode) {
      case 0:
        rcode_noerror.inc();
        break;
      case 2:
        rcode_servfail.inc();
        break;
      case 3:
        rcode_nxdomain.inc();
        break;
      case 5:
        rcode_refused.inc();
        break;
      default:
        rcode_other.inc();
        break;
    }
  }
};

}  // namespace cairn::dnsfwd
