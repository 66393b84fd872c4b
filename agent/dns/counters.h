// The DNS interface's metrics in the agent's registry (/v1/agent/metrics):
// queries by type, responses by RCODE, truncations, bad packets, recursion
// outcomes and answer time. Handles are looked up once; counting a query is
// a few increments, no map lookups.
#pragma once

#include <array>
#include <cstdint>

#include "agent/dns/answer.h"
#include "common/metrics.h"
#include "common/net/tcp_listener.h"

namespace cairn::dns {

class Counters {
 public:
  explicit Counters(MetricsRegistry& m);

  // One answered (or dropped) packet and the time it took.
  void record(const Outcome& o, double ms);
  // The final outcome of a forwarded query.
  void recursed(bool ok, uint8_t rcode, double ms);
  // One upstream that did not answer usefully (timeout, error, SERVFAIL...).
  void recursor_failure() { recursor_failures_.inc(); }
  // A query refused because too many were already waiting on recursors.
  void recursion_overload() { recursion_overload_.inc(); }
  // The UDP listeners' counters: oversized datagrams count as malformed.
  Counter& malformed_counter() { return malformed_; }
  Counter& udp_send_drops() { return udp_send_drops_; }
  // The TCP listeners' limit counters.
  net::TcpListener::Counters tcp() const { return tcp_; }

 private:
  Counter& query_type(uint16_t qtype);
  Counter& rcode(uint8_t rcode);

  std::array<Counter*, 10> types_{};  // A AAAA SRV PTR TXT ANY SOA NS CNAME other
  std::array<Counter*, 6> rcodes_{};  // NOERROR FORMERR SERVFAIL NXDOMAIN NOTIMP REFUSED
  Counter* rcode_other_;
  Counter& truncated_;
  Counter& malformed_;
  Counter& recursed_;
  Counter& recursor_failures_;
  Counter& recursor_all_failed_;
  Counter& recursion_overload_;
  net::TcpListener::Counters tcp_;
  Counter& udp_send_drops_;
  Counter& stale_;
  Summary& domain_query_;
  Summary& ptr_query_;
  Summary& recursion_time_;
};

}  // namespace cairn::dns
