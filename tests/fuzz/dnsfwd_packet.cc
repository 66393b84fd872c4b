// Drives both directions of cairn-dnsfwd's packet path with one input:
//   as a client query: scan, route, key, and the replies built for it
//   as an upstream answer: scan (cross-checked with ldns), prepare for the
//     cache, cache insert/lookup, and the answers composed for three kinds of
//     client (no EDNS, EDNS 1232, TCP)
// Besides "no crash", it checks the invariants the forwarder relies on:
// every message we produce scans cleanly and never exceeds the client's size.
#include "common/dns/ldns.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/dns/build.h"
#include "common/dns/message.h"
#include "common/dns/name.h"
#include "dnsfwd/answer.h"
#include "dnsfwd/cache.h"
#include "dnsfwd/router.h"

using namespace cairn::dns;
using namespace cairn::dnsfwd;

namespace {

#define check(cond)                                                               \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "invariant failed at line %d: %s\n", __LINE__, #cond); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

Router& router() {
  static Router r = [] {
    Router x;
    std::vector<uint8_t> w;
    std::string err;
    from_text("consul", w, err);
    x.add(w, 1);
    from_text("10.in-addr.arpa", w, err);
    x.add(w, 2);
    return x;
  }();
  return r;
}

// Composes for one kind of client and checks the result.
void compose_for(const StoredView& view, const uint8_t* qname, size_t qname_len, bool edns,
                 size_t limit) {
  static std::vector<uint8_t> out(65536);
  static Message scratch;
  static std::vector<Rr> scratch_rrs;
  ClientAsk ask;
  ask.id = 0xbeef;
  ask.flags = kFlagRD;
  ask.qname = qname;
  ask.qname_len = qname_len;
  ask.edns = edns;
  ask.do_bit = edns;
  ask.limit = limit;
  size_t n = compose(view, 7, false, ask, 1232, out.data(), out.size(), scratch, scratch_rrs);
  if (n == 0) return;
  check(n <= limit);
  Message m;
  std::vector<Rr> rrs;
  check(scan(out.data(), n, m, &rrs) == ScanStatus::ok);
  check(m.header.id == 0xbeef);
  check(m.edns.present == edns);
}

void as_query(const uint8_t* data, size_t size) {
  Message q;
  if (scan(data, size, q, nullptr) != ScanStatus::ok || !q.has_question()) return;
  uint8_t folded[kMaxNameWire];
  fold_copy(data + q.qname_offset, q.qname_len, folded);
  (void)router().route(folded, q.qname_len);
  (void)hash_key(folded, q.qname_len, q.qtype, q.qclass, 0);
  (void)to_text(folded, q.qname_len);

  static uint8_t out[4096];
  size_t n = build_question_reply(data, q, kRcodeServFail, 0, 1232, out, sizeof out);
  check(n > 0);
  Message r;
  check(scan(out, n, r, nullptr) == ScanStatus::ok);
  check(r.header.qr() && r.qtype == q.qtype && r.qname_len == q.qname_len);

  // An answer for this name, served to this client.
  static std::vector<uint8_t> ans;
  ans.assign(out, out + q.question_end);
  Header h = read_header(ans.data());
  h.ancount = 1;
  h.arcount = 0;
  write_header(ans.data(), h);
  const uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1};
  ans.insert(ans.end(), rr, rr + sizeof rr);
  Message am;
  std::vector<Rr> arrs;
  check(scan(ans.data(), ans.size(), am, &arrs) == ScanStatus::ok);
  Prepared p;
  prepare(ans.data(), am, arrs, CacheRules{}, false, p);
  StoredView view{ans.data(), p.len, p.ttl_offsets.data(), p.ttl_offsets.size(), p.ext_rcode};
  compose_for(view, data + q.qname_offset, q.qname_len, q.edns.present,
              udp_limit(q.edns.present, q.edns.udp_size, 1232));
}

void as_answer(const uint8_t* data, size_t size) {
  static std::vector<uint8_t> buf;
  buf.assign(data, data + size);
  Message m;
  static std::vector<Rr> rrs;
  if (scan(buf.data(), buf.size(), m, &rrs) != ScanStatus::ok) return;

  // The reference parser must agree on what both understood.
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, data, size) == LDNS_STATUS_OK) {
    check(ldns_pkt_id(pkt) == m.header.id);
    check(ldns_pkt_qdcount(pkt) == m.header.qdcount);
    check(ldns_pkt_ancount(pkt) == m.header.ancount);
    if (m.has_question())
      check(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(pkt), 0)) == m.qtype);
    ldns_pkt_free(pkt);
  }
  if (!m.has_question()) return;

  // Truncation keeps a valid prefix.
  {
    static std::vector<uint8_t> cut;
    cut = buf;
    size_t n = truncate_to_fit(cut.data(), m, rrs, 512);
    check(n <= std::max<size_t>(512, m.question_end));
    Message t;
    check(scan(cut.data(), n, t, nullptr) == ScanStatus::ok);
    check(t.header.tc());
  }

  CacheRules rules;
  rules.min_ttl = data[0] & 3;  // vary the clamps a little
  rules.max_ttl = 3600;
  rules.negative_max_ttl = 5;
  Prepared p;
  prepare(buf.data(), m, rrs, rules, data[1] & 1, p);
  check(p.len <= size);
  Message stored;
  std::vector<Rr> srrs;
  check(scan(buf.data(), p.len, stored, &srrs) == ScanStatus::ok);
  check(!stored.edns.present);
  check(p.ttl_offsets.size() == srrs.size());

  StoredView view{buf.data(), p.len, p.ttl_offsets.data(), p.ttl_offsets.size(), p.ext_rcode};
  static Cache cache(64, 1 << 20);
  static uint64_t now = 0;
  now += 500;
  uint8_t folded[kMaxNameWire];
  fold_copy(buf.data() + m.qname_offset, m.qname_len, folded);
  CacheKey key{folded,  static_cast<uint16_t>(m.qname_len),
               m.qtype, m.qclass,
               0,       hash_key(folded, m.qname_len, m.qtype, m.qclass, 0)};
  if (p.lifetime > 0) {
    Cache::Stored s{
        buf.data(), p.len, p.ttl_offsets.data(),          p.ttl_offsets.size(), p.ext_rcode,
        p.lifetime, 10,    p.kind != AnswerKind::positive};
    cache.insert(key, s, now);
    Cache::Found f = cache.lookup(key, now);
    if (f.state != Cache::State::miss) {
      check(f.len == p.len && std::memcmp(f.msg, buf.data(), p.len) == 0);
      view = StoredView{f.msg, f.len, f.ttl_offsets, f.ttl_count, f.ext_rcode};
    }
  }
  const uint8_t* qname = buf.data() + m.qname_offset;
  compose_for(view, qname, m.qname_len, false, 512);
  compose_for(view, qname, m.qname_len, true, 1232);
  compose_for(view, qname, m.qname_len, false, 65535);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > 65535) return 0;
  as_query(data, size);
  as_answer(data, size);
  return 0;
}
