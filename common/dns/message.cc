#include "common/dns/message.h"

#include <algorithm>

#include "common/dns/name.h"

namespace cairn::dns {

const char* to_string(ScanStatus s) {
  switch (s) {
    case ScanStatus::ok:
      return "ok";
    case ScanStatus::short_header:
      return "short header";
    case ScanStatus::question_count:
      return "more than one question";
    case ScanStatus::bad_question:
      return "malformed question";
    case ScanStatus::truncated:
      return "truncated record";
    case ScanStatus::bad_name:
      return "malformed name";
    case ScanStatus::bad_rdata:
      return "malformed rdata";
    case ScanStatus::bad_opt:
      return "malformed OPT record";
  }
  return "?";
}

namespace {

// Where labels begin in the message being scanned (one loop thread per
// process, and scans do not nest).
thread_local LabelStarts g_starts;

// Checks that the names a type carries in its rdata are well formed and fill
// it exactly; other types are opaque to a forwarder.
bool check_rdata(const uint8_t* msg, size_t len, uint16_t type, size_t rdata, size_t rdlength) {
  size_t rdend = rdata + rdlength;
  size_t end = 0;
  LabelStarts* st = &g_starts;
  switch (type) {
    case kTypeNS:
    case kTypeCNAME:
    case kTypePTR:
    case kTypeDNAME:
      return walk_name(msg, len, rdata, end, st) && end == rdend;
    case kTypeMX:
      return rdlength >= 3 && walk_name(msg, len, rdata + 2, end, st) && end == rdend;
    case kTypeSRV:
      return rdlength >= 7 && walk_name(msg, len, rdata + 6, end, st) && end == rdend;
    case kTypeSOA: {
      size_t mname_end = 0;
      if (!walk_name(msg, len, rdata, mname_end, st) || mname_end >= rdend) return false;
      if (!walk_name(msg, len, mname_end, end, st)) return false;
      return end + 20 == rdend;
    }
    default:
      return true;
  }
}

ScanStatus scan_opt(const uint8_t* msg, const Rr& rr, Edns& edns) {
  if (rr.section != Section::additional || edns.present) return ScanStatus::bad_opt;
  if (msg[rr.offset] != 0 || rr.fixed_offset != rr.offset + 1) return ScanStatus::bad_opt;
  edns.present = true;
  edns.offset = rr.offset;
  edns.udp_size = rr.rclass;
  edns.ext_rcode = static_cast<uint8_t>(rr.ttl >> 24);
  edns.version = static_cast<uint8_t>(rr.ttl >> 16);
  edns.do_bit = (rr.ttl & kEdnsDO) != 0;
  edns.options_offset = rr.rdata_offset();
  edns.options_length = rr.rdlength;
  size_t pos = rr.rdata_offset();
  size_t end = rr.end();
  while (pos < end) {
    if (end - pos < 4) return ScanStatus::bad_opt;
    size_t optlen = get16(msg + pos + 2);
    if (end - pos - 4 < optlen) return ScanStatus::bad_opt;
    pos += 4 + optlen;
  }
  return ScanStatus::ok;
}

}  // namespace

ScanStatus scan(const uint8_t* msg, size_t len, Message& out, std::vector<Rr>* rrs) {
  if (rrs) rrs->clear();
  out = Message{};
  if (len < kHeaderSize) return ScanStatus::short_header;
  if (len > kMaxMessage) len = kMaxMessage;
  out.header = read_header(msg);
  if (out.header.qdcount > 1) return ScanStatus::question_count;
  g_starts.reset(len);

  size_t pos = kHeaderSize;
  if (out.header.qdcount == 1) {
    size_t name_end = 0;
    if (!read_uncompressed_name(msg, len, pos, name_end, &g_starts) || len - name_end < 4)
      return ScanStatus::bad_question;
    out.qname_offset = pos;
    out.qname_len = name_end - pos;
    out.qtype = get16(msg + name_end);
    out.qclass = get16(msg + name_end + 2);
    pos = name_end + 4;
  }
  out.question_end = pos;

  const uint32_t counts[3] = {out.header.ancount, out.header.nscount, out.header.arcount};
  size_t index = 0;
  for (int s = 0; s < 3; ++s) {
    for (uint32_t i = 0; i < counts[s]; ++i, ++index) {
      Rr rr;
      rr.offset = static_cast<uint16_t>(pos);
      size_t name_end = 0;
      if (pos >= len) return ScanStatus::truncated;
      if (!walk_name(msg, len, pos, name_end, &g_starts)) return ScanStatus::bad_name;
      if (len - name_end < 10) return ScanStatus::truncated;
      rr.fixed_offset = static_cast<uint16_t>(name_end);
      rr.type = get16(msg + name_end);
      rr.rclass = get16(msg + name_end + 2);
      rr.ttl = get32(msg + name_end + 4);
      rr.rdlength = get16(msg + name_end + 8);
      rr.section = static_cast<Section>(s + 1);
      if (len - rr.rdata_offset() < rr.rdlength) return ScanStatus::truncated;
      if (rr.type == kTypeOPT) {
        ScanStatus st = scan_opt(msg, rr, out.edns);
        if (st != ScanStatus::ok) return st;
        out.edns.rr_index = index;
      } else if (!check_rdata(msg, len, rr.type, rr.rdata_offset(), rr.rdlength)) {
        return ScanStatus::bad_rdata;
      }
      pos = rr.end();
      if (rrs) rrs->push_back(rr);
    }
  }
  out.end = pos;
  return ScanStatus::ok;
}

bool negative_ttl(const uint8_t* msg, const std::vector<Rr>& rrs, uint32_t& ttl,
                  size_t* soa_index) {
  for (size_t i = 0; i < rrs.size(); ++i) {
    const Rr& rr = rrs[i];
    if (rr.section != Section::authority || rr.type != kTypeSOA) continue;
    // check_rdata already proved the rdata ends with the five 32-bit fields.
    uint32_t minimum = get32(msg + rr.end() - 4);
    ttl = std::min(sane_ttl(rr.ttl), sane_ttl(minimum));
    if (soa_index) *soa_index = i;
    return true;
  }
  return false;
}

}  // namespace cairn::dns
