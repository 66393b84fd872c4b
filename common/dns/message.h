// A bounds-checked, allocation-free scanner for DNS messages.
//
// Why not ldns_wire2pkt on the hot path: it builds an ldns_rr (and one
// ldns_rdf per rdata field) on the heap for every record, then frees them all;
// on the 2-core benchmark VM that is ~3.1-3.6 µs for a 4-record answer
// against ~0.35 µs for this scanner, 9-12x (tests/bench/dnsfwd/parse_cost.cc,
// docs/benchmarks.md), i.e. a third to half of the whole CPU cost of
// answering a query from cache (6.5-10.5 µs). A
// forwarder only needs the header, the question, where each record sits (to
// count TTLs down and to cut whole RRsets), the EDNS0 OPT record and the SOA
// of a negative answer, all of which sit at fixed offsets once names are
// skipped. So this scanner locates records without copying them, and
// validates what it walks: every name (owner names and the names inside the
// rdata of the types a forwarder reads or passes on compressed: NS, CNAME,
// PTR, DNAME, MX, SRV, SOA), compression pointers (only to the start of a
// label of a name seen earlier, hence no loops, and never into TTLs or opaque
// rdata that the forwarder rewrites or cuts), section counts against the
// bytes present, and the OPT record's placement and option framing. ldns remains the full parser
// for everything that is not per packet (config names, probes, tests, the fuzz cross-check).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/dns/wire.h"

namespace cairn::dns {

enum class Section : uint8_t { answer = 1, authority = 2, additional = 3 };

// Where one resource record sits in a message. Offsets fit 16 bits because a
// message is at most 65535 bytes.
struct Rr {
  uint16_t offset = 0;        // owner name
  uint16_t fixed_offset = 0;  // type(2) class(2) ttl(4) rdlength(2) follow the owner
  uint16_t type = 0;
  uint16_t rclass = 0;
  uint32_t ttl = 0;  // as received
  uint16_t rdlength = 0;
  Section section = Section::answer;

  size_t ttl_offset() const { return size_t{fixed_offset} + 4; }
  size_t rdata_offset() const { return size_t{fixed_offset} + 10; }
  size_t end() const { return rdata_offset() + rdlength; }
};

struct Edns {
  bool present = false;
  uint16_t udp_size = 0;  // as advertised (values below 512 mean 512, RFC 6891 §6.2.3)
  uint8_t ext_rcode = 0;  // upper 8 bits of the 12-bit rcode
  uint8_t version = 0;
  bool do_bit = false;
  size_t offset = 0;    // start of the OPT record
  size_t rr_index = 0;  // its index in the record list, when one is kept
  size_t options_offset = 0;
  size_t options_length = 0;
};

struct Message {
  Header header;
  // The question, when header.qdcount == 1 (it is always stored uncompressed).
  size_t qname_offset = kHeaderSize;
  size_t qname_len = 0;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  size_t question_end = kHeaderSize;
  size_t end = 0;  // just past the last counted record; trailing bytes are ignored
  Edns edns;

  bool has_question() const { return header.qdcount == 1; }
};

enum class ScanStatus : uint8_t {
  ok,
  short_header,    // fewer than 12 bytes
  question_count,  // QDCOUNT above 1
  bad_question,    // question name or fields malformed or cut short
  truncated,       // a record is cut short or the counts promise more than is there
  bad_name,        // label type, length, or compression pointer out of rules
  bad_rdata,       // names inside rdata do not fill it as the type requires
  bad_opt,         // OPT not in additional, not owned by the root, repeated, or bad options
};

const char* to_string(ScanStatus s);

// Scans msg[0, len). When rrs is given it is cleared and receives every
// record in message order (answers, then authority, then additional), so a
// caller can keep one vector and never allocate after warm-up.
ScanStatus scan(const uint8_t* msg, size_t len, Message& out, std::vector<Rr>* rrs);

// RFC 2308 §5: the negative-caching TTL of a negative answer is the smaller of
// the SOA record's own TTL and its MINIMUM field. Returns false when the
// authority section holds no SOA. *soa_index receives the record's index.
bool negative_ttl(const uint8_t* msg, const std::vector<Rr>& rrs, uint32_t& ttl,
                  size_t* soa_index = nullptr);

// The 12-bit rcode of a scanned message.
inline uint16_t full_rcode(const Message& m) {
  return static_cast<uint16_t>((uint16_t{m.edns.ext_rcode} << 4) | m.header.rcode());
}

}  // namespace cairn::dns
