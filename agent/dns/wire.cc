#include "agent/dns/wire.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace cairn::dns {

namespace {

uint16_t get16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
uint32_t get32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

uint8_t ascii_lower(uint8_t c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<uint8_t>(c + 32) : c;
}

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
      q.qname_lc[n + 1 + i] = ascii_lower(c);
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

bool name_to_wire(std::string_view text, std::string& out) {
  out.clear();
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  while (!text.empty()) {
    size_t dot = text.find('.');
    std::string_view label = text.substr(0, dot);
    if (label.empty() || label.size() > 63) return false;
    out += static_cast<char>(label.size());
    out += label;
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
    if (text.empty()) return false;  // "a..": an empty label
  }
  out += '\0';
  return out.size() <= kMaxNameWire;
}

std::string wire_to_text(std::string_view wire) {
  std::string out;
  size_t pos = 0;
  while (pos < wire.size()) {
    uint8_t len = static_cast<uint8_t>(wire[pos]);
    if (len == 0 || pos + 1 + len > wire.size()) break;
    for (size_t i = 0; i < len; ++i) {
      unsigned char c = static_cast<unsigned char>(wire[pos + 1 + i]);
      if (c == '.' || c == '\\' || c == '"') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x21 || c > 0x7E) {
        char esc[5];
        std::snprintf(esc, sizeof esc, "\\%03u", c);
        out += esc;
      } else {
        out += static_cast<char>(c);
      }
    }
    out += '.';
    pos += 1 + len;
  }
  return out.empty() ? "." : out;
}

// Writer ---------------------------------------------------------------------

void Writer::reset(uint8_t* buf, size_t capacity, bool compress) {
  buf_ = buf;
  cap_ = capacity;
  len_ = 0;
  overflow_ = false;
  compress_ = compress;
  if (++generation_ == 0) {  // wrapped: old entries could look current again
    table_.fill(Entry{});
    generation_ = 1;
  }
}

void Writer::u8(uint8_t v) {
  if (len_ + 1 > cap_) {
    overflow_ = true;
    return;
  }
  buf_[len_++] = v;
}

void Writer::u16(uint16_t v) {
  if (len_ + 2 > cap_) {
    overflow_ = true;
    return;
  }
  buf_[len_] = static_cast<uint8_t>(v >> 8);
  buf_[len_ + 1] = static_cast<uint8_t>(v);
  len_ += 2;
}

void Writer::u32(uint32_t v) {
  u16(static_cast<uint16_t>(v >> 16));
  u16(static_cast<uint16_t>(v));
}

void Writer::bytes(const void* p, size_t n) {
  if (len_ + n > cap_) {
    overflow_ = true;
    return;
  }
  std::memcpy(buf_ + len_, p, n);
  len_ += n;
}

size_t Writer::begin_length() {
  size_t at = len_;
  u16(0);
  return at;
}

void Writer::end_length(size_t at) {
  if (overflow_) return;
  patch_u16(at, static_cast<uint16_t>(len_ - at - 2));
}

void Writer::patch_u16(size_t at, uint16_t v) {
  if (at + 2 > len_) return;
  buf_[at] = static_cast<uint8_t>(v >> 8);
  buf_[at + 1] = static_cast<uint8_t>(v);
}

namespace {

// Hashes of every suffix of a wire name, from the right, so "a.b.c." and the
// "b.c." inside "x.b.c." hash alike. This runs for every name of every
// answer, so a label contributes only its first and last eight bytes (with
// its length byte); a collision costs one failed comparison in suffix_at.
size_t suffix_hashes(std::string_view wire, size_t* starts, uint32_t* hashes, size_t max) {
  size_t n = 0;
  for (size_t p = 0; p < wire.size() && wire[p] != 0 && n < max;
       p += 1 + static_cast<uint8_t>(wire[p]))
    starts[n++] = p;
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (size_t i = n; i-- > 0;) {
    size_t p = starts[i];
    size_t len = std::min(wire.size() - p, size_t{1} + static_cast<uint8_t>(wire[p]));
    uint64_t head = 0, tail = 0;
    std::memcpy(&head, wire.data() + p, std::min<size_t>(8, len));
    if (len > 8) std::memcpy(&tail, wire.data() + p + len - 8, 8);
    h = (h ^ head) * 0xff51afd7ed558ccdull;
    h = (h ^ tail ^ (h >> 29)) * 0xc4ceb9fe1a85ec53ull;
    hashes[i] = static_cast<uint32_t>(h ^ (h >> 32));
  }
  return n;
}

}  // namespace

bool Writer::suffix_at(size_t offset, std::string_view wire, size_t from) const {
  size_t p = offset, w = from;
  int hops = 0;
  while (true) {
    if (p >= len_ || w >= wire.size()) return false;
    uint8_t b = buf_[p];
    if ((b & 0xC0) == 0xC0) {
      if (p + 1 >= len_ || ++hops > 128) return false;
      p = (size_t{b & 0x3Fu} << 8) | buf_[p + 1];
      continue;
    }
    if (b != static_cast<uint8_t>(wire[w])) return false;
    if (b == 0) return true;
    if (p + 1 + b > len_ || w + 1 + b > wire.size()) return false;
    if (std::memcmp(buf_ + p + 1, wire.data() + w + 1, b) != 0) return false;
    p += 1 + size_t{b};
    w += 1 + size_t{b};
  }
}

void Writer::remember(uint32_t hash, size_t offset) {
  if (!compress_ || offset >= 0x3FFF) return;
  for (size_t i = 0, slot = hash & (kTableSize - 1); i < 16;
       ++i, slot = (slot + 1) & (kTableSize - 1)) {
    Entry& e = table_[slot];
    if (e.generation == generation_) {
      if (e.hash == hash) return;  // that suffix is already known
      continue;
    }
    e = Entry{hash, static_cast<uint16_t>(offset), generation_};
    return;
  }
}

void Writer::note_name(size_t offset, std::string_view wire) {
  size_t starts[128];
  uint32_t hashes[128];
  size_t n = suffix_hashes(wire, starts, hashes, 128);
  for (size_t i = 0; i < n; ++i) remember(hashes[i], offset + starts[i]);
}

void Writer::name(std::string_view wire, bool compressible) {
  size_t starts[128];
  uint32_t hashes[128];
  size_t n = suffix_hashes(wire, starts, hashes, 128);
  size_t reuse_at = n;  // label index from which a pointer replaces the rest
  size_t pointer = 0;
  if (compress_ && compressible) {
    for (size_t i = 0; i < n && reuse_at == n; ++i) {
      for (size_t k = 0, slot = hashes[i] & (kTableSize - 1); k < 16;
           ++k, slot = (slot + 1) & (kTableSize - 1)) {
        const Entry& e = table_[slot];
        if (e.generation != generation_) break;
        if (e.hash == hashes[i] && suffix_at(e.offset, wire, starts[i])) {
          reuse_at = i;
          pointer = e.offset;
          break;
        }
      }
    }
  }
  for (size_t i = 0; i < reuse_at; ++i) {
    size_t len = static_cast<uint8_t>(wire[starts[i]]);
    remember(hashes[i], len_);
    bytes(wire.data() + starts[i], len + 1);
  }
  if (reuse_at < n)
    u16(static_cast<uint16_t>(0xC000 | pointer));
  else
    u8(0);
}

}  // namespace cairn::dns
