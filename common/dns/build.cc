#include "common/dns/build.h"

#include <cstring>

namespace cairn::dns {

size_t write_opt(uint8_t* out, size_t cap, uint16_t udp_size, uint8_t ext_rcode, bool do_bit) {
  if (cap < kOptRrSize) return 0;
  out[0] = 0;  // root owner
  put16(out + 1, kTypeOPT);
  put16(out + 3, udp_size);
  put32(out + 5, (uint32_t{ext_rcode} << 24) | (do_bit ? kEdnsDO : 0));  // version 0
  put16(out + 9, 0);
  return kOptRrSize;
}

size_t build_query(const QuerySpec& q, uint8_t* out, size_t cap) {
  size_t need = kHeaderSize + q.qname_len + 4 + (q.edns ? kOptRrSize : 0);
  if (cap < need || q.qname_len == 0) return 0;
  Header h;
  h.id = q.id;
  h.flags = q.flags & static_cast<uint16_t>(~(kFlagQR | kRcodeMask));
  h.qdcount = 1;
  h.arcount = q.edns ? 1 : 0;
  write_header(out, h);
  std::memcpy(out + kHeaderSize, q.qname, q.qname_len);
  size_t pos = kHeaderSize + q.qname_len;
  put16(out + pos, q.qtype);
  put16(out + pos + 2, q.qclass);
  pos += 4;
  if (q.edns) pos += write_opt(out + pos, cap - pos, q.udp_size, 0, q.do_bit);
  return pos;
}

size_t build_question_reply(const uint8_t* query, const Message& q, uint16_t rcode,
                            uint16_t extra_flags, uint16_t udp_size, uint8_t* out, size_t cap) {
  size_t question_len = q.has_question() ? q.question_end - kHeaderSize : 0;
  size_t need = kHeaderSize + question_len + (q.edns.present ? kOptRrSize : 0);
  if (cap < need) return 0;
  Header h;
  h.id = q.header.id;
  h.flags = static_cast<uint16_t>((q.header.flags & (kOpcodeMask | kFlagRD | kFlagCD)) | kFlagQR |
                                  kFlagRA | extra_flags | (rcode & kRcodeMask));
  h.qdcount = q.has_question() ? 1 : 0;
  h.arcount = q.edns.present ? 1 : 0;
  write_header(out, h);
  std::memcpy(out + kHeaderSize, query + kHeaderSize, question_len);
  size_t pos = kHeaderSize + question_len;
  if (q.edns.present)
    pos +=
        write_opt(out + pos, cap - pos, udp_size, static_cast<uint8_t>(rcode >> 4), q.edns.do_bit);
  return pos;
}

size_t truncate_to_fit(uint8_t* msg, const Message& m, const std::vector<Rr>& rrs, size_t limit) {
  size_t keep_end = m.question_end;
  uint16_t keep_count = 0;
  size_t i = 0;
  while (i < rrs.size() && rrs[i].section == Section::answer) {
    // An RRset: consecutive answers with the same type, class and owner bytes.
    size_t j = i + 1;
    size_t owner_len = rrs[i].fixed_offset - rrs[i].offset;
    while (j < rrs.size() && rrs[j].section == Section::answer && rrs[j].type == rrs[i].type &&
           rrs[j].rclass == rrs[i].rclass &&
           size_t{rrs[j].fixed_offset} - rrs[j].offset == owner_len &&
           std::memcmp(msg + rrs[j].offset, msg + rrs[i].offset, owner_len) == 0)
      ++j;
    if (rrs[j - 1].end() > limit) break;
    keep_end = rrs[j - 1].end();
    keep_count = static_cast<uint16_t>(j);
    i = j;
  }
  Header h = m.header;
  h.flags |= kFlagTC;
  h.ancount = keep_count;
  h.nscount = 0;
  h.arcount = 0;
  write_header(msg, h);
  return keep_end;
}

}  // namespace cairn::dns
