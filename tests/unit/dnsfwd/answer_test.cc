#include <doctest/doctest.h>

#include "common/dns/message.h"
#include "common/dns/name.h"
#include "dnsfwd/answer.h"
#include "tests/unit/common/dns/packets.h"

using namespace cairn::dnsfwd;
using namespace cairn::dns;
namespace t = cairn::dns::testing;

namespace {

struct Prep {
  t::Bytes msg;
  Message m;
  std::vector<Rr> rrs;
  Prepared p;
  explicit Prep(const t::PacketSpec& spec, const CacheRules& rules = {}, bool trust_ad = false) {
    msg = t::build(spec);
    REQUIRE(scan(msg.data(), msg.size(), m, &rrs) == ScanStatus::ok);
    prepare(msg.data(), m, rrs, rules, trust_ad, p);
  }
  StoredView view() const {
    return StoredView{msg.data(), p.len, p.ttl_offsets.data(), p.ttl_offsets.size(), p.ext_rcode};
  }
};

ClientAsk ask_for(const t::Bytes& q) {
  Message m;
  REQUIRE(scan(q.data(), q.size(), m, nullptr) == ScanStatus::ok);
  ClientAsk a;
  a.id = m.header.id;
  a.flags = m.header.flags;
  a.qname = q.data() + m.qname_offset;
  a.qname_len = m.qname_len;
  a.edns = m.edns.present;
  a.do_bit = m.edns.do_bit;
  a.limit = udp_limit(m.edns.present, m.edns.udp_size, 1232);
  return a;
}

ldns_pkt* compose_and_parse(const Prep& p, const t::Bytes& q, uint32_t age, bool fixed = false,
                            size_t* len_out = nullptr) {
  ClientAsk a = ask_for(q);
  uint8_t out[4096];
  Message scratch;
  std::vector<Rr> rrs;
  size_t n = compose(p.view(), age, fixed, a, 1232, out, sizeof out, scratch, rrs);
  REQUIRE(n > 0);
  if (len_out) *len_out = n;
  ldns_pkt* pkt = t::parse(t::Bytes(out, out + n));
  REQUIRE(pkt != nullptr);
  return pkt;
}

}  // namespace

TEST_CASE("positive answers: lifetime is the smallest TTL, OPT removed") {
  t::PacketSpec s;
  s.answer = {"www.example.com. 300 IN CNAME web.example.com.",
              "web.example.com. 60 IN A 192.0.2.1"};
  s.edns_size = 1232;
  s.ad = true;
  Prep p(s);
  CHECK(p.p.kind == AnswerKind::positive);
  CHECK(p.p.lifetime == 60);
  CHECK(p.p.ttl_offsets.size() == 2);
  CHECK(p.p.len < p.msg.size());
  Message stored;
  REQUIRE(scan(p.msg.data(), p.p.len, stored, nullptr) == ScanStatus::ok);
  CHECK_FALSE(stored.edns.present);
  CHECK(stored.header.arcount == 0);
  CHECK((stored.header.flags & kFlagAD) == 0);  // untrusted upstream
}

TEST_CASE("TTL clamps") {
  t::PacketSpec s;
  s.answer = {"www.example.com. 5 IN A 192.0.2.1"};
  CacheRules r;
  r.min_ttl = 30;
  Prep lo(s, r);
  CHECK(lo.p.lifetime == 30);
  CHECK(lo.p.ttl_clamped);
  s.answer = {"www.example.com. 999999 IN A 192.0.2.1"};
  Prep hi(s);
  CHECK(hi.p.lifetime == 86400);
  s.answer = {"www.example.com. 0 IN A 192.0.2.1"};
  Prep zero(s);
  CHECK(zero.p.lifetime == 0);  // the agent's default: not cached
}

TEST_CASE("negative answers follow RFC 2308") {
  t::PacketSpec s;
  s.rcode = LDNS_RCODE_NXDOMAIN;
  s.authority = {"example.com. 900 IN SOA ns.example.com. h.example.com. 1 7200 3600 1209600 60"};
  Prep nx(s);
  CHECK(nx.p.kind == AnswerKind::negative);
  CHECK(nx.p.lifetime == 60);
  // The SOA is handed out with the negative TTL.
  CHECK(get32(nx.msg.data() + nx.p.ttl_offsets[0]) == 60);

  CacheRules tight;
  tight.negative_max_ttl = 5;
  Prep capped(s, tight);
  CHECK(capped.p.lifetime == 5);

  s.authority = {};
  Prep no_soa(s);
  CHECK(no_soa.p.lifetime == 0);
  CacheRules with_default;
  with_default.negative_ttl_without_soa = 3;
  Prep no_soa2(s, with_default);
  CHECK(no_soa2.p.lifetime == 3);

  t::PacketSpec nodata;
  nodata.authority = {
      "example.com. 30 IN SOA ns.example.com. h.example.com. 1 7200 3600 1209600 600"};
  Prep nd(nodata);
  CHECK(nd.p.kind == AnswerKind::negative);
  CHECK(nd.p.lifetime == 30);
}

TEST_CASE("SERVFAIL micro-cache, truncated and refused answers") {
  t::PacketSpec s;
  s.rcode = LDNS_RCODE_SERVFAIL;
  Prep sf(s);
  CHECK(sf.p.kind == AnswerKind::servfail);
  CHECK(sf.p.lifetime == 1);
  s.rcode = LDNS_RCODE_REFUSED;
  CHECK(Prep(s).p.lifetime == 0);
  t::PacketSpec tc;
  tc.tc = true;
  tc.answer = {"www.example.com. 300 IN A 192.0.2.1"};
  CHECK(Prep(tc).p.lifetime == 0);
}

TEST_CASE("compose: client's ID, case, TTL countdown and EDNS") {
  t::PacketSpec s;
  s.answer = {"www.example.com. 300 IN A 192.0.2.1"};
  s.edns_size = 1232;
  Prep p(s);
  t::PacketSpec qs;
  qs.id = 4242;
  qs.qname = "WwW.ExAmple.COM.";
  qs.response = false;
  qs.edns_size = 4096;
  qs.do_bit = true;
  t::Bytes q = t::build(qs);
  ldns_pkt* pkt = compose_and_parse(p, q, 100);
  CHECK(ldns_pkt_id(pkt) == 4242);
  CHECK(ldns_pkt_qr(pkt));
  CHECK(ldns_pkt_ra(pkt));
  CHECK_FALSE(ldns_pkt_aa(pkt));
  CHECK(ldns_pkt_edns(pkt));
  CHECK(ldns_pkt_edns_do(pkt));
  CHECK(ldns_pkt_edns_udp_size(pkt) == 1232);
  ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
  char* qn = ldns_rdf2str(ldns_rr_owner(question));
  CHECK(std::string(qn) == "WwW.ExAmple.COM.");
  free(qn);
  CHECK(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(pkt), 0)) == 200);
  ldns_pkt_free(pkt);

  // No EDNS from the client: no OPT back. Stale: fixed TTL.
  t::Bytes plain = t::query("www.example.com.");
  pkt = compose_and_parse(p, plain, 30, true);
  CHECK_FALSE(ldns_pkt_edns(pkt));
  CHECK(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(pkt), 0)) == 30);
  ldns_pkt_free(pkt);

  // An age beyond the TTL gives 0, never a wrapped value.
  pkt = compose_and_parse(p, plain, 1000);
  CHECK(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(pkt), 0)) == 0);
  ldns_pkt_free(pkt);
}

TEST_CASE("compose never exceeds the client's UDP size") {
  t::PacketSpec s;
  s.qname = "many.example.";
  for (int i = 0; i < 40; ++i)
    s.answer.push_back("many.example. 60 IN A 192.0.2." + std::to_string(i));
  s.additional = {"ns.example. 60 IN A 192.0.2.250"};
  Prep p(s);
  REQUIRE(p.p.len > 512);

  // No EDNS: 512 bytes; the single 40-record set does not fit, so TC and no answers.
  t::Bytes plain = t::query("many.example.");
  size_t n = 0;
  ldns_pkt* pkt = compose_and_parse(p, plain, 0, false, &n);
  CHECK(n <= 512);
  CHECK(ldns_pkt_tc(pkt));
  CHECK(ldns_pkt_ancount(pkt) == 0);
  ldns_pkt_free(pkt);

  // EDNS 1232: it all fits.
  t::Bytes big = t::query("many.example.", LDNS_RR_TYPE_A, 1232);
  pkt = compose_and_parse(p, big, 0, false, &n);
  CHECK_FALSE(ldns_pkt_tc(pkt));
  CHECK(ldns_pkt_ancount(pkt) == 40);
  ldns_pkt_free(pkt);

  // TCP-sized limit: unchanged.
  ClientAsk a = ask_for(plain);
  a.limit = 65535;
  uint8_t out[4096];
  Message scratch;
  std::vector<Rr> rrs;
  CHECK(compose(p.view(), 0, false, a, 1232, out, sizeof out, scratch, rrs) == p.p.len);
}

TEST_CASE("udp_limit") {
  CHECK(udp_limit(false, 0, 1232) == 512);
  CHECK(udp_limit(true, 100, 1232) == 512);
  CHECK(udp_limit(true, 4096, 1232) == 1232);
  CHECK(udp_limit(true, 800, 1232) == 800);
}
