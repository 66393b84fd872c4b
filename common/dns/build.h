// Writing DNS messages: queries, question-only replies, the EDNS0 OPT record,
// and cutting an answer down to a size limit. All write into caller buffers
// and return the bytes written (0 when the buffer is too small).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/dns/message.h"

namespace cairn::dns {

// An OPT pseudo-record without options (kOptRrSize bytes).
size_t write_opt(uint8_t* out, size_t cap, uint16_t udp_size, uint8_t ext_rcode, bool do_bit);

struct QuerySpec {
  uint16_t id = 0;
  uint16_t flags = kFlagRD;        // QR clear; RD and CD as the client asked
  const uint8_t* qname = nullptr;  // uncompressed wire name
  size_t qname_len = 0;
  uint16_t qtype = kTypeA;
  uint16_t qclass = kClassIN;
  bool edns = true;
  uint16_t udp_size = 1232;
  bool do_bit = false;
};
size_t build_query(const QuerySpec& q, uint8_t* out, size_t cap);

// A reply to a scanned query that carries its question and nothing else:
// errors (SERVFAIL, REFUSED, FORMERR, NOTIMP, BADVERS) and bare TC answers.
// ID, opcode, RD and CD come from the query; QR and RA are set; extra_flags
// (e.g. kFlagTC) are added. When the query had EDNS0 an OPT with our
// udp_size, the DO bit echoed and the upper rcode bits is appended.
size_t build_question_reply(const uint8_t* query, const Message& q, uint16_t rcode,
                            uint16_t extra_flags, uint16_t udp_size, uint8_t* out, size_t cap);

// Cuts a scanned message in place to at most limit bytes: keeps the header,
// the question and the leading answer RRsets that fit whole, drops authority
// and additional, and sets TC (RFC 2181 §9). Compression pointers only point
// backwards (the scanner enforces it), so a prefix of the message stays valid.
// Returns the new length.
size_t truncate_to_fit(uint8_t* msg, const Message& m, const std::vector<Rr>& rrs, size_t limit);

}  // namespace cairn::dns
