#include "common/dns/query.h"

#include <cstring>

#include "common/dns/name.h"

namespace cairn::dns {

namespace {

// Reads the question name: plain labels only. A query's question is the
// first name in the packet, so a compression pointer there could only point
// into the header; refusing pointers also rules out pointer loops.
size_t read_question_name(std::span<const uint8_t> pkt, size_t pos, Query& q) {
  size_t n = 0;
  while (true) {
    if (pos >= pkt.size()) return 0;
    uint8_t len = pkt[pos];
    if (len == 0) {
      q.qname[n] = 0;
      q.qname_lc[n] = 0;
      q.qname_len = static_cast<uint8_t>(n + 1);
      return pos + 1;
    }
    if (len & 0xC0) return 0;  // pointer or reserved label type
    if (pos + 1 + len > pkt.size() || n + 1 + len + 1 > kMaxNameWire) return 0;
    q.qname[n] = len;
    q.qname_lc[n] = len;
    for (size_t i = 0; i < len; ++i) {
      uint8_t c = pkt[pos + 1 + i];
      q.qname[n + 1 + i] = c;
      q.qname_lc[n + 1 + i] = fold(c);
    }
    n += 1 + len;
    pos += 1 + len;
  }
}

// Reads an OPT RR's RDATA: the options we act on (Client Subnet).
bool read_options(const uint8_t* p, size_t len, Query& q) {
  size_t pos = 0;
  while (pos < len) {
    if (pos + 4 > len) return false;
    uint16_t code = get16(p + pos);
    uint16_t olen = get16(p + pos + 2);
    pos += 4;
    if (pos + olen > len) return false;
    if (code == kOptionEcs) {
      if (olen < 4 || q.ecs.present) return false;
      uint16_t family = get16(p + pos);
      uint8_t source = p[pos + 2];
      size_t addr_len = olen - 4u;
      size_t max_bits = family == 1 ? 32 : family == 2 ? 128 : 0;
      if (max_bits == 0 || source > max_bits || addr_len != (source + 7u) / 8u) return false;
      q.ecs.present = true;
      q.ecs.family = family;
      q.ecs.source_prefix = source;
      q.ecs.address.fill(0);
      std::memcpy(q.ecs.address.data(), p + pos + 4, addr_len);
    }
    pos += olen;
  }
  return true;
}

}  // namespace

size_t read_name(std::span<const uint8_t> pkt, size_t offset, uint8_t* out, size_t& out_len) {
  size_t pos = offset;
  size_t end = 0;
  int hops = 0;
  out_len = 0;
  while (true) {
    if (pos >= pkt.size()) return 0;
    uint8_t b = pkt[pos];
    if (b == 0) {
      out[out_len++] = 0;
      return end ? end : pos + 1;
    }
    if ((b & 0xC0) == 0xC0) {
      if (pos + 1 >= pkt.size()) return 0;
      size_t target = (size_t{b & 0x3Fu} << 8) | pkt[pos + 1];
      if (!end) end = pos + 2;
      // Only backwards, and a bounded number of times: no loop can survive.
      if (target >= pos || ++hops > 64) return 0;
      pos = target;
      continue;
    }
    if (b & 0xC0) return 0;
    if (pos + 1 + b > pkt.size() || out_len + 1 + b + 1 > kMaxNameWire) return 0;
    std::memcpy(out + out_len, pkt.data() + pos, 1 + size_t{b});
    out_len += 1 + size_t{b};
    pos += 1 + size_t{b};
  }
}

ParseStatus parse_query(std::span<const uint8_t> pkt, Query& q) {
  if (pkt.size() < kHeaderSize) return ParseStatus::drop;
  const uint8_t* p = pkt.data();
  q.id = get16(p);
  uint16_t flags = get16(p + 2);
  if (flags & 0x8000) return ParseStatus::drop;  // a response: answering could start a loop
  q.opcode = static_cast<uint8_t>((flags >> 11) & 0x0F);
  q.rd = flags & 0x0100;
  q.cd = flags & 0x0010;
  q.has_question = false;
  q.has_edns = false;
  q.ecs.present = false;
  uint16_t qd = get16(p + 4), an = get16(p + 6), ns = get16(p + 8), ar = get16(p + 10);

  size_t pos = kHeaderSize;
  if (qd >= 1) {
    pos = read_question_name(pkt, pos, q);
    if (pos != 0 && pos + 4 <= pkt.size()) {
      q.qtype = get16(p + pos);
      q.qclass = get16(p + pos + 2);
      pos += 4;
      q.has_question = true;
    }
  }
  if (q.opcode != kOpcodeQuery) return ParseStatus::notimp;
  if (qd != 1 || !q.has_question || an != 0 || ns != 0) return ParseStatus::formerr;

  uint8_t scratch[kMaxNameWire];
  for (uint16_t i = 0; i < ar; ++i) {
    size_t name_len = 0;
    size_t after = read_name(pkt, pos, scratch, name_len);
    if (after == 0 || after + 10 > pkt.size()) return ParseStatus::formerr;
    uint16_t type = get16(p + after);
    uint16_t klass = get16(p + after + 2);
    uint32_t ttl = get32(p + after + 4);
    uint16_t rdlen = get16(p + after + 8);
    size_t rdata = after + 10;
    if (rdata + rdlen > pkt.size()) return ParseStatus::formerr;
    if (type == kTypeOPT) {
      // One OPT, owned by the root (RFC 6891 6.1.1).
      if (q.has_edns || name_len != 1) return ParseStatus::formerr;
      q.has_edns = true;
      q.edns_udp_size = klass;
      q.edns_version = static_cast<uint8_t>((ttl >> 16) & 0xFF);
      q.edns_do = ttl & 0x8000;
      if (!read_options(p + rdata, rdlen, q)) return ParseStatus::formerr;
    }
    pos = rdata + rdlen;
  }
  if (q.has_edns && q.edns_version > 0) return ParseStatus::badvers;
  return ParseStatus::ok;
}

}  // namespace cairn::dns
