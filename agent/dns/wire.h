// DNS wire format for the agent's answer path: a bounds-checked query parser
// and a response writer with name compression.
//
// Why not ldns here: ldns builds every packet as a tree of heap objects
// (ldns_pkt, ldns_rr, ldns_rdf, one malloc each) and compresses through an
// rbtree. Measured with tests/bench/dns/wire_bench.cc (CPU time, bench
// machine): ldns takes about 0.3 us to parse a query and 11 us to parse it
// and build a 3-SRV answer with its additional records; this code takes
// 0.04 us to parse and 1 us for the whole answer including the lookup,
// shuffle and trimming. At the query rates the issue asks for (docs/benchmarks.md)
// that difference is most of a core. The code is small, reads only inside
// the buffer it is given, rejects compression pointers in the question (so
// no pointer loop can exist there), bounds pointer hops elsewhere, and is
// fuzzed by tests/fuzz/dns_answer.cc, which checks every response with
// ldns. ldns stays the parser for upstream replies (recursor.cc) and the
// oracle in tests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cairn::dns {

// RR types named by the answer path and the counters.
enum : uint16_t {
  kTypeA = 1,
  kTypeNS = 2,
  kTypeCNAME = 5,
  kTypeSOA = 6,
  kTypePTR = 12,
  kTypeMX = 15,
  kTypeTXT = 16,
  kTypeAAAA = 28,
  kTypeSRV = 33,
  kTypeOPT = 41,
  kTypeIXFR = 251,
  kTypeAXFR = 252,
  kTypeANY = 255,
};
enum : uint16_t { kClassIN = 1, kClassANY = 255 };
enum : uint8_t {
  kRcodeNoError = 0,
  kRcodeFormErr = 1,
  kRcodeServFail = 2,
  kRcodeNxDomain = 3,
  kRcodeNotImp = 4,
  kRcodeRefused = 5,
};
inline constexpr uint16_t kRcodeBadVers = 16;  // extended RCODE, carried in the OPT RR
inline constexpr uint8_t kOpcodeQuery = 0;
inline constexpr uint16_t kOptionEcs = 8;  // EDNS Client Subnet (RFC 7871)

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxNameWire = 255;
// The largest DNS message (TCP length prefix, UDP datagram).
inline constexpr size_t kMaxMessage = 65535;

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

// Text ("web.service.consul", trailing dot optional) to wire format. Returns
// false for empty labels inside the name, labels over 63 bytes, or names
// over 255 bytes. "" and "." are the root.
bool name_to_wire(std::string_view text, std::string& out);
// Wire to presentation text with RFC 1035 escapes, for logs and messages.
std::string wire_to_text(std::string_view wire);

// Writes one message into a caller-provided buffer. Names are compressed
// against every name written before (exact-case match, RFC 1035 4.1.4)
// unless compression is off. Writes past the capacity set overflow() and are
// dropped, so a caller checks once at the end.
class Writer {
 public:
  void reset(uint8_t* buf, size_t capacity, bool compress);

  size_t size() const { return len_; }
  bool overflow() const { return overflow_; }
  const uint8_t* data() const { return buf_; }

  void u8(uint8_t v);
  void u16(uint16_t v);
  void u32(uint32_t v);
  void bytes(const void* p, size_t n);
  void bytes(std::string_view s) { bytes(s.data(), s.size()); }
  // A name given in uncompressed wire format.
  void name(std::string_view wire, bool compressible = true);
  // Registers a name already in the buffer (the question) for compression.
  void note_name(size_t offset, std::string_view wire);

  // Two-byte placeholder (RDLENGTH) filled in by patch_length.
  size_t begin_length();
  void end_length(size_t at);
  void patch_u16(size_t at, uint16_t v);

 private:
  struct Entry {
    uint32_t hash;
    uint16_t offset;
    uint16_t generation;
  };
  static constexpr size_t kTableSize = 256;  // power of two; a response has far fewer names

  bool suffix_at(size_t offset, std::string_view wire, size_t from) const;
  void remember(uint32_t hash, size_t offset);

  uint8_t* buf_ = nullptr;
  size_t cap_ = 0;
  size_t len_ = 0;
  bool overflow_ = false;
  bool compress_ = true;
  uint16_t generation_ = 0;
  std::array<Entry, kTableSize> table_{};
};

}  // namespace cairn::dns
