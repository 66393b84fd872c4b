// Reading a client's query, for a server that answers it itself (the agent's
// DNS interface): the header flags, the question (kept as sent and
// lower-cased), and the EDNS0 OPT record with its Client Subnet option.
//
// Why not ldns here: ldns builds every packet as a tree of heap objects
// (ldns_pkt, ldns_rr, ldns_rdf, one malloc each). Measured with
// tests/bench/dns/wire_bench.cc (CPU time, bench machine): ldns takes about
// 0.3 us to parse a query, this code 0.04 us. It reads only inside the
// buffer it is given, rejects compression pointers in the question (so no
// pointer loop can exist there), bounds pointer hops elsewhere, and is
// fuzzed by tests/fuzz/dns_answer.cc against ldns.
//
// A forwarder, which needs where every record sits rather than a query's
// fields, uses scan() (message.h); both share the constants of wire.h.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/dns/wire.h"

namespace cairn::dns {

// EDNS Client Subnet option of a query.
struct ClientSubnet {
  bool present = false;
  uint16_t family = 0;  // 1 = IPv4, 2 = IPv6
  uint8_t source_prefix = 0;
  std::array<uint8_t, 16> address{};  // zero-padded
};

// A parsed query. The question name is kept in wire format as sent (case
// preserved, no compression) and lower-cased for matching.
struct Query {
  uint16_t id = 0;
  uint8_t opcode = 0;
  bool rd = false;
  bool cd = false;
  bool has_question = false;
  std::array<uint8_t, kMaxNameWire> qname{};
  std::array<uint8_t, kMaxNameWire> qname_lc{};
  uint8_t qname_len = 0;  // bytes of wire name including the root label
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  bool has_edns = false;
  uint8_t edns_version = 0;
  uint16_t edns_udp_size = 0;
  bool edns_do = false;
  ClientSubnet ecs;

  std::string_view name_wire() const {
    return {reinterpret_cast<const char*>(qname.data()), qname_len};
  }
  std::string_view name_wire_lc() const {
    return {reinterpret_cast<const char*>(qname_lc.data()), qname_len};
  }
};

enum class ParseStatus {
  ok,
  drop,     // shorter than a header, or a response: never answered (no reflection loops)
  formerr,  // malformed: answer FORMERR
  notimp,   // an opcode other than QUERY: answer NOTIMP
  badvers,  // EDNS version above 0: answer BADVERS (RFC 6891)
};

// Parses a query packet. On formerr/notimp/badvers, the header fields (and the
// question when it parsed) are filled in for the error answer.
ParseStatus parse_query(std::span<const uint8_t> packet, Query& out);

// Reads a possibly compressed name at offset (pointers must point backwards,
// at most 64 hops), into out as uncompressed wire. Returns the offset after
// the name at its original position, or 0 when it is malformed.
size_t read_name(std::span<const uint8_t> packet, size_t offset, uint8_t* out, size_t& out_len);

}  // namespace cairn::dns
