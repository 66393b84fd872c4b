#include "dnsfwd/answer.h"

#include <algorithm>
#include <cstring>

#include "common/dns/build.h"

namespace cairn::dnsfwd {

using namespace cairn::dns;

void prepare(uint8_t* msg, const Message& m, const std::vector<Rr>& rrs, const CacheRules& rules,
             bool trust_ad, Prepared& out) {
  out.ttl_offsets.clear();
  out.ttl_clamped = false;
  out.ext_rcode = m.edns.ext_rcode;
  out.len = m.end;

  // Drop the OPT record and, if an upstream put records after it, those too:
  // additional data is optional and a prefix keeps compression valid.
  size_t kept = rrs.size();
  Header h = m.header;
  if (m.edns.present) {
    kept = m.edns.rr_index;
    out.len = m.edns.offset;
    h.arcount = static_cast<uint16_t>(kept - h.ancount - h.nscount);
  }
  h.flags &= static_cast<uint16_t>(~kFlagAA);
  if (!trust_ad) h.flags &= static_cast<uint16_t>(~kFlagAD);
  write_header(msg, h);

  uint16_t rcode = full_rcode(m);
  if (h.tc()) {
    out.kind = AnswerKind::uncacheable;
  } else if (rcode == kRcodeNoError && h.ancount > 0) {
    out.kind = AnswerKind::positive;
  } else if (rcode == kRcodeNxDomain || rcode == kRcodeNoError) {
    out.kind = AnswerKind::negative;
  } else if (rcode == kRcodeServFail) {
    out.kind = AnswerKind::servfail;
  } else {
    out.kind = AnswerKind::uncacheable;
  }

  uint32_t lifetime = 0;
  uint32_t neg = 0;
  bool have_soa = false;
  if (out.kind == AnswerKind::negative) {
    // Only records that survive the cut count: a SOA is never after the OPT anyway.
    have_soa = negative_ttl(msg, rrs, neg);
    if (have_soa) {
      if (neg > rules.negative_max_ttl) {
        neg = rules.negative_max_ttl;
        out.ttl_clamped = true;
      }
    } else {
      neg = std::min(rules.negative_ttl_without_soa, rules.negative_max_ttl);
    }
    neg = std::min(neg, rules.max_ttl);
  }

  uint32_t min_ttl = UINT32_MAX;
  for (size_t i = 0; i < kept; ++i) {
    const Rr& rr = rrs[i];
    uint32_t ttl = sane_ttl(rr.ttl);
    if (out.kind == AnswerKind::negative) {
      // RFC 2308 §5: the records of a negative answer live as long as the
      // negative TTL, and the SOA is handed out with it.
      if (ttl > neg || (rr.type == kTypeSOA && rr.section == Section::authority)) ttl = neg;
    } else {
      if (ttl < rules.min_ttl) {
        ttl = rules.min_ttl;
        out.ttl_clamped = true;
      }
      if (ttl > rules.max_ttl) {
        ttl = rules.max_ttl;
        out.ttl_clamped = true;
      }
    }
    if (ttl != rr.ttl) put32(msg + rr.ttl_offset(), ttl);
    min_ttl = std::min(min_ttl, ttl);
    out.ttl_offsets.push_back(static_cast<uint16_t>(rr.ttl_offset()));
  }

  switch (out.kind) {
    case AnswerKind::positive:
      lifetime = min_ttl == UINT32_MAX ? 0 : min_ttl;
      break;
    case AnswerKind::negative:
      lifetime = neg;
      break;
    case AnswerKind::servfail:
      lifetime = rules.servfail_ttl;
      break;
    case AnswerKind::uncacheable:
      lifetime = 0;
      break;
  }
  out.lifetime = lifetime;
}

size_t compose(const StoredView& s, uint32_t age_or_ttl, bool fixed_ttl, const ClientAsk& ask,
               uint16_t our_udp_size, uint8_t* out, size_t cap, Message& scratch,
               std::vector<Rr>& scratch_rrs) {
  size_t opt = ask.edns ? kOptRrSize : 0;
  size_t limit = std::min(ask.limit, cap);
  if (limit < kHeaderSize + ask.qname_len + 4 + opt) return 0;

  size_t len = s.len;
  Header h = read_header(s.msg);
  if (s.len + opt > limit) {
    // Rare (large answers to small clients): find whole RRsets that fit.
    if (scan(s.msg, s.len, scratch, &scratch_rrs) != ScanStatus::ok) return 0;
    uint16_t ancount = 0;
    len = scratch.question_end;
    for (size_t i = 0; i < scratch_rrs.size();) {
      if (scratch_rrs[i].section != Section::answer) break;
      size_t j = i + 1;
      size_t owner_len = scratch_rrs[i].fixed_offset - scratch_rrs[i].offset;
      while (j < scratch_rrs.size() && scratch_rrs[j].section == Section::answer &&
             scratch_rrs[j].type == scratch_rrs[i].type &&
             size_t{scratch_rrs[j].fixed_offset} - scratch_rrs[j].offset == owner_len &&
             std::memcmp(s.msg + scratch_rrs[j].offset, s.msg + scratch_rrs[i].offset, owner_len) ==
                 0)
        ++j;
      if (scratch_rrs[j - 1].end() + opt > limit) break;
      len = scratch_rrs[j - 1].end();
      ancount = static_cast<uint16_t>(j);
      i = j;
    }
    h.flags |= kFlagTC;
    h.ancount = ancount;
    h.nscount = 0;
    h.arcount = 0;
  }
  std::memcpy(out, s.msg, len);

  h.id = ask.id;
  uint16_t keep = static_cast<uint16_t>(kFlagTC | kFlagAD | kRcodeMask | kOpcodeMask);
  h.flags = static_cast<uint16_t>((h.flags & keep) | kFlagQR | kFlagRA |
                                  (ask.flags & (kFlagRD | kFlagCD)));
  // RFC 6840 §5.8: AD only for clients that asked for it (DO or AD in the query).
  if (!ask.do_bit && !(ask.flags & kFlagAD)) h.flags &= static_cast<uint16_t>(~kFlagAD);
  if (ask.edns) h.arcount = static_cast<uint16_t>(h.arcount + 1);
  write_header(out, h);
  if (read_header(s.msg).qdcount == 1 && ask.qname_len > 0)
    std::memcpy(out + kHeaderSize, ask.qname, ask.qname_len);

  for (size_t i = 0; i < s.ttl_count; ++i) {
    size_t at = s.ttl_offsets[i];
    if (at + 4 > len) continue;  // cut off by truncation
    uint32_t ttl = fixed_ttl ? age_or_ttl : get32(s.msg + at);
    if (!fixed_ttl) ttl = ttl > age_or_ttl ? ttl - age_or_ttl : 0;
    put32(out + at, ttl);
  }
  if (ask.edns) len += write_opt(out + len, cap - len, our_udp_size, s.ext_rcode, ask.do_bit);
  return len;
}

}  // namespace cairn::dnsfwd
