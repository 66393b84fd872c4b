// The DNS answer builder: one query packet in, one response packet out.
//
// Pure apart from its caches: it reads the store and the settings it is
// given, takes the time and the client address as arguments, and never does
// I/O, so unit tests and the fuzzer drive it directly. The listeners
// (common/net/udp_listener.h and tcp_listener.h) and the recursor are the
// shells around it.
//
// Behaviour follows reference/consul-dns.md: the name grammar (qname.h), node
// and service lookups with health filtering, RFC 2782 SRV with targets and
// additional records, prepared queries, <hex>.addr, PTR, SOA/NS, NXDOMAIN and
// NODATA with the SOA in the authority section, shuffling, the UDP answer
// limit and size trimming (TC only with enable_truncate), EDNS0 and Client
// Subnet echo. Names outside the domain are handed back for recursion.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/dns/lookup.h"
#include "agent/dns/qname.h"
#include "agent/dns/remote_records.h"
#include "agent/dns/settings.h"
#include "agent/dns/view_coverage.h"
#include "agent/state/store.h"
#include "common/dns/name.h"
#include "common/dns/query.h"
#include "common/dns/writer.h"

namespace cairn::dns {

enum class Transport : uint8_t { udp, tcp };

// What became of one packet: what the shell does next and what it counts.
struct Outcome {
  // remote: the name is in another datacenter; the shell fetches its rows
  // (remote_question()) and answers with answer_remote().
  enum class Action : uint8_t { reply, drop, recurse, remote };
  enum class Zone : uint8_t { domain, reverse, outside, none };
  Action action = Action::drop;
  Zone zone = Zone::none;
  size_t size = 0;            // response bytes in the output buffer (Action::reply)
  uint8_t rcode = 0;          // the header RCODE (BADVERS shows as NOERROR here)
  uint16_t qtype = 0;         // 0 when no question parsed
  bool malformed = false;     // dropped garbage, FORMERR, NOTIMP, BADVERS or an unknown class
  bool truncated = false;     // answers were left out to fit
  bool no_recursors = false;  // SERVFAIL because there was no recursor to ask
};

// A set of record hashes, each with an index, for de-duplicating records.
// Its storage is reused from answer to answer.
struct SeenSet {
  struct Slot {
    uint64_t hash;  // 0 = empty
    int32_t value;
  };
  std::vector<Slot> slots;
  void reset(size_t expected);
  // Returns the value stored for h, or stores value and returns -2.
  int32_t find_or_insert(uint64_t h, int32_t value);
};

class AnswerBuilder {
 public:
  explicit AnswerBuilder(uint64_t seed);
  AnswerBuilder(const AnswerBuilder&) = delete;
  AnswerBuilder& operator=(const AnswerBuilder&) = delete;

  // Takes a copy; cached lookups made under the old settings are dropped.
  void set_settings(const Settings& s);
  const Settings& settings() const { return settings_; }

  // Answers packet into out, which must hold kMaxMessage bytes. client is the
  // sender's address (prepared queries with `Near: _ip`); now is Unix time
  // (the SOA serial).
  Outcome answer(std::span<const uint8_t> packet, Transport transport, const IpAddr& client,
                 const state::Store& store, uint32_t now, std::span<uint8_t> out);

  // Whether names in other datacenters come back as Action::remote (the
  // shell can fetch them) or NXDOMAIN (no path to datacenter).
  void set_remote_enabled(bool enabled) { remote_enabled_ = enabled; }
  // A client agent's partial view (null: the store holds the whole
  // catalog). A service it does not hold comes back as Action::remote for
  // this datacenter: a server answers while the view subscribes to it.
  void set_view(ViewCoverage* view) { view_ = view; }
  // After Action::remote: what to fetch from which datacenter.
  const RemoteQuestion& remote_question() const { return remote_; }
  // Answers packet (a question for another datacenter, or a prepared query
  // that failed over) from rows of datacenter, as its own servers would:
  // names in it are `<datacenter>` names. A fresh builder is used per answer
  // (store is a one-off).
  static Outcome answer_remote(const Settings& settings, std::string_view datacenter,
                               std::span<const uint8_t> packet,
                               Transport transport, const IpAddr& client,
                               const state::Store& store, uint32_t now, std::span<uint8_t> out);
  // NXDOMAIN (no path to the datacenter) or SERVFAIL (it did not answer)
  // for a question that went to another datacenter.
  Outcome remote_failed(std::span<const uint8_t> packet, Transport transport, bool no_path,
                        uint32_t now, std::span<uint8_t> out);

  // SERVFAIL with RA set for a query no recursor answered. Returns the size,
  // 0 if the packet is not a query.
  size_t recursion_failed(std::span<const uint8_t> packet, std::span<uint8_t> out);

  // The query the last answer() parsed (for logs and the recursor).
  const Query& query() const { return q_; }

 private:
  struct Rr {
    std::string_view owner;  // wire format
    uint16_t type = 0;
    uint32_t ttl = 0;
    std::string_view rdata;   // A, AAAA, TXT; SOA: RNAME
    std::string_view target;  // SRV, CNAME, PTR, NS; SOA: MNAME
    uint16_t priority = 0, weight = 0, port = 0;
  };

  uint64_t next_random();
  void shuffle(size_t n);
  void reset_records();
  void add_soa(std::vector<Rr>& to, size_t domain);
  void add_nameservers(const state::Store& store, size_t domain, bool as_answer);

  // Lookups; each fills the record lists and returns the RCODE.
  uint8_t dispatch(const state::Store& store, const ParsedName& name, const IpAddr& client,
                   bool& client_specific);
  uint8_t node_lookup(const state::Store& store, const ParsedName& name);
  // Whether the store holds service (always, but for a client's partial view).
  bool holds(std::string_view service_lc);
  // Leaves the question to a server of this datacenter (Action::remote).
  uint8_t ask_server(RemoteKind kind, std::string_view name);
  uint8_t service_records(const EndpointSet& set, const IpAddr& client);
  uint8_t addr_lookup(const ParsedName& name);
  bool reverse_lookup(const state::Store& store);

  // Writes the message with the first n answers; returns its size.
  size_t write(std::span<uint8_t> out, uint8_t rcode, bool tc, size_t n, bool authority,
               const std::vector<Rr>& extra, bool compress);
  size_t write_error(std::span<uint8_t> out, uint8_t rcode, bool ra, bool badvers);
  void write_rr(const Rr& rr);
  // Keeps the additional records the first n answers need (Consul's syncExtra).
  void sync_extra(size_t n);
  // Writes the answer, leaving out answers that do not fit the transport.
  size_t finish(std::span<uint8_t> out, Transport transport, uint8_t rcode, bool& truncated);

  Settings settings_;
  uint64_t settings_generation_ = 0;
  Lookups lookups_;
  uint64_t rng_[4];
  Query q_;
  ParsedName name_;
  Writer w_;
  bool aa_ = false;
  bool ra_ = false;
  bool client_specific_ = false;  // ECS scope = source prefix
  uint32_t serial_ = 0;
  std::vector<std::string> soa_mname_, soa_rname_;  // per domain, wire

  // Per-answer scratch, kept to reuse its capacity.
  std::vector<Rr> answers_, authority_, extra_full_, extra_;
  std::vector<int32_t> first_extra_;  // answer -> its first record in extra_full_, or -1
  std::vector<uint32_t> order_;
  SeenSet seen_;
  IpAddr addr_ip_;  // <hex>.addr answers point into this
  bool remote_enabled_ = false;
  ViewCoverage* view_ = nullptr;
  bool remote_pending_ = false;
  RemoteQuestion remote_;
};

}  // namespace cairn::dns
