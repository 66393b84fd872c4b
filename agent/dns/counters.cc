#include "agent/dns/counters.h"

namespace cairn::dns {

namespace {

constexpr const char* kTypeNames[] = {"A",   "AAAA", "SRV", "PTR",   "TXT",
                                      "ANY", "SOA",  "NS",  "CNAME", "other"};
constexpr const char* kRcodeNames[] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                       "NXDOMAIN", "NOTIMP",  "REFUSED"};

}  // namespace

Counters::Counters(MetricsRegistry& m)
    : rcode_other_(
          &m.counter("consul.dns.responses", "DNS responses by RCODE", {{"rcode", "other"}})),
      truncated_(m.counter("consul.dns.truncated", "DNS answers that left records out to fit")),
      malformed_(m.counter("consul.dns.malformed",
                           "DNS packets dropped or refused as malformed (FORMERR, NOTIMP, BADVERS, "
                           "unknown class, responses sent as queries)")),
      recursed_(m.counter("consul.dns.recursed", "DNS queries forwarded to recursors")),
      recursor_failures_(m.counter("consul.dns.recursor_failures",
                                   "Recursor attempts that failed (timeout, error, SERVFAIL)")),
      recursor_all_failed_(m.counter("consul.dns.recursor_all_failed",
                                     "Forwarded DNS queries no recursor answered (SERVFAIL)")),
      recursion_overload_(m.counter("consul.dns.recursion_overload",
                                    "DNS queries refused because too many were being forwarded")),
      tcp_{
          .accepted = nullptr,
          .rejected = &m.counter("consul.dns.tcp_rejected",
                                 "DNS TCP connections closed at accept: "
                                 "dns_config.tcp_max_connections"),
          .idle_closed = &m.counter("consul.dns.tcp_idle_closed",
                                    "DNS TCP connections closed idle: dns_config.tcp_idle_timeout"),
          .reads_paused = &m.counter("consul.dns.tcp_reads_paused",
                                     "DNS TCP connections paused with too many queries in "
                                     "flight: dns_config.tcp_max_in_flight"),
          .slow_reader_closed = &m.counter("consul.dns.tcp_slow_reader_closed",
                                           "DNS TCP connections closed with too many unread "
                                           "answers: dns_config.tcp_max_queued_bytes")},
      udp_send_drops_(m.counter("consul.dns.udp_send_drops",
                                "DNS answers over UDP the socket refused (send buffer full)")),
      stale_(m.counter("consul.dns.stale_queries",
                       "DNS queries answered from data older than 5s (servers only)")),
      domain_query_(
          m.summary("consul.dns.domain_query", "Milliseconds to answer a query in the domain")),
      ptr_query_(m.summary("consul.dns.ptr_query", "Milliseconds to answer a reverse query")),
      recursion_time_(
          m.summary("consul.dns.recursion", "Milliseconds to answer a forwarded query")) {
  for (size_t i = 0; i < types_.size(); ++i)
    types_[i] =
        &m.counter("consul.dns.queries", "DNS queries by question type", {{"type", kTypeNames[i]}});
  for (size_t i = 0; i < rcodes_.size(); ++i)
    rcodes_[i] =
        &m.counter("consul.dns.responses", "DNS responses by RCODE", {{"rcode", kRcodeNames[i]}});
  (void)stale_;
}

Counter& Counters::query_type(uint16_t qtype) {
  switch (qtype) {
    case kTypeA:
      return *types_[0];
    case kTypeAAAA:
      return *types_[1];
    case kTypeSRV:
      return *types_[2];
    case kTypePTR:
      return *types_[3];
    case kTypeTXT:
      return *types_[4];
    case kTypeANY:
      return *types_[5];
    case kTypeSOA:
      return *types_[6];
    case kTypeNS:
      return *types_[7];
    case kTypeCNAME:
      return *types_[8];
    default:
      return *types_[9];
  }
}

Counter& Counters::rcode(uint8_t r) {
  return r < rcodes_.size() ? *rcodes_[r] : *rcode_other_;
}

void Counters::record(const Outcome& o, double ms) {
  if (o.qtype || o.zone != Outcome::Zone::none) query_type(o.qtype).inc();
  if (o.malformed) malformed_.inc();
  if (o.truncated) truncated_.inc();
  if (o.action == Outcome::Action::recurse) {
    recursed_.inc();
    return;  // counted with its result in recursed()
  }
  if (o.action == Outcome::Action::reply) rcode(o.rcode).inc();
  if (o.no_recursors) recursor_all_failed_.inc();
  if (o.zone == Outcome::Zone::domain)
    domain_query_.observe(ms);
  else if (o.zone == Outcome::Zone::reverse)
    ptr_query_.observe(ms);
}

void Counters::recursed(bool ok, uint8_t r, double ms) {
  if (!ok) recursor_all_failed_.inc();
  rcode(r).inc();
  recursion_time_.observe(ms);
}

}  // namespace cairn::dns
