#include <doctest/doctest.h>

#include "common/dns/build.h"
#include "common/dns/message.h"
#include "common/dns/name.h"
#include "tests/unit/common/dns/packets.h"

using namespace cairn::dns;
namespace t = cairn::dns::testing;

TEST_CASE("scan reads header, question and EDNS of a query") {
  t::Bytes q = t::query("WWW.Example.com.", LDNS_RR_TYPE_AAAA, 4096, true);
  Message m;
  std::vector<Rr> rrs;
  REQUIRE(scan(q.data(), q.size(), m, &rrs) == ScanStatus::ok);
  CHECK(m.header.id == 0x1234);
  CHECK_FALSE(m.header.qr());
  CHECK(m.has_question());
  CHECK(m.qtype == kTypeAAAA);
  CHECK(m.qclass == kClassIN);
  CHECK(to_text(q.data() + m.qname_offset, m.qname_len) == "WWW.Example.com.");
  CHECK(m.edns.present);
  CHECK(m.edns.udp_size == 4096);
  CHECK(m.edns.do_bit);
  CHECK(m.end == q.size());
  CHECK(rrs.size() == 1);

  t::Bytes plain = t::query("example.com.");
  REQUIRE(scan(plain.data(), plain.size(), m, nullptr) == ScanStatus::ok);
  CHECK_FALSE(m.edns.present);
}

TEST_CASE("scan locates records in a compressed answer") {
  t::PacketSpec s;
  s.answer = {"www.example.com. 300 IN CNAME web.example.com.",
              "web.example.com. 60 IN A 192.0.2.1", "web.example.com. 60 IN A 192.0.2.2"};
  s.authority = {"example.com. 3600 IN NS ns1.example.com."};
  s.additional = {"ns1.example.com. 3600 IN A 192.0.2.53"};
  s.edns_size = 1232;
  t::Bytes r = t::build(s);
  Message m;
  std::vector<Rr> rrs;
  REQUIRE(scan(r.data(), r.size(), m, &rrs) == ScanStatus::ok);
  REQUIRE(rrs.size() == 6);
  CHECK(rrs[0].type == kTypeCNAME);
  CHECK(rrs[0].ttl == 300);
  CHECK(rrs[1].ttl == 60);
  CHECK(rrs[3].section == Section::authority);
  CHECK(rrs[4].section == Section::additional);
  CHECK(rrs[5].type == kTypeOPT);
  CHECK(m.edns.rr_index == 5);
  CHECK(get32(r.data() + rrs[1].ttl_offset()) == 60);
  CHECK(m.end == r.size());
}

TEST_CASE("negative_ttl is min(SOA TTL, SOA MINIMUM)") {
  t::PacketSpec s;
  s.rcode = LDNS_RCODE_NXDOMAIN;
  s.authority = {
      "example.com. 900 IN SOA ns.example.com. host.example.com. 1 7200 3600 1209600 30"};
  t::Bytes r = t::build(s);
  Message m;
  std::vector<Rr> rrs;
  REQUIRE(scan(r.data(), r.size(), m, &rrs) == ScanStatus::ok);
  uint32_t ttl = 0;
  REQUIRE(negative_ttl(r.data(), rrs, ttl));
  CHECK(ttl == 30);
  s.authority = {"example.com. 10 IN SOA ns.example.com. host.example.com. 1 7200 3600 1209600 30"};
  r = t::build(s);
  REQUIRE(scan(r.data(), r.size(), m, &rrs) == ScanStatus::ok);
  REQUIRE(negative_ttl(r.data(), rrs, ttl));
  CHECK(ttl == 10);
  s.authority = {};
  r = t::build(s);
  REQUIRE(scan(r.data(), r.size(), m, &rrs) == ScanStatus::ok);
  CHECK_FALSE(negative_ttl(r.data(), rrs, ttl));
}

TEST_CASE("scan rejects malformed messages") {
  t::PacketSpec s;
  s.answer = {"www.example.com. 300 IN A 192.0.2.1"};
  s.edns_size = 1232;
  t::Bytes good = t::build(s);
  Message m;
  std::vector<Rr> rrs;
  REQUIRE(scan(good.data(), good.size(), m, &rrs) == ScanStatus::ok);

  SUBCASE("short header") {
    CHECK(scan(good.data(), 11, m, &rrs) == ScanStatus::short_header);
  }
  SUBCASE("every cut is detected") {
    for (size_t n = 12; n < good.size(); ++n)
      CHECK(scan(good.data(), n, m, &rrs) != ScanStatus::ok);
  }
  SUBCASE("counts larger than the data") {
    t::Bytes b = good;
    put16(b.data() + 6, 2);
    CHECK(scan(b.data(), b.size(), m, &rrs) != ScanStatus::ok);
  }
  SUBCASE("two questions") {
    t::Bytes b = good;
    put16(b.data() + 4, 2);
    CHECK(scan(b.data(), b.size(), m, &rrs) == ScanStatus::question_count);
  }
  SUBCASE("OPT in the answer section") {
    t::Bytes b = good;
    // Make the OPT count as an answer: ancount 2, arcount 0.
    put16(b.data() + 6, 2);
    put16(b.data() + 10, 0);
    CHECK(scan(b.data(), b.size(), m, &rrs) == ScanStatus::bad_opt);
  }
  SUBCASE("two OPT records") {
    t::Bytes b = good;
    b.insert(b.end(), good.end() - 11, good.end());
    put16(b.data() + 10, 2);
    CHECK(scan(b.data(), b.size(), m, &rrs) == ScanStatus::bad_opt);
  }
  SUBCASE("OPT option overrunning its rdata") {
    t::Bytes b = good;
    put16(b.data() + b.size() - 2, 4);  // rdlength 4
    b.insert(b.end(), {0, 10, 0, 9});   // option 10 claims 9 bytes, none follow
    CHECK(scan(b.data(), b.size(), m, &rrs) == ScanStatus::bad_opt);
  }
  SUBCASE("CNAME rdata that is not exactly one name") {
    t::PacketSpec c;
    c.answer = {"www.example.com. 300 IN CNAME a.example.com."};
    t::Bytes b = t::build(c);
    // Grow rdlength by one and append a byte: the name no longer fills it.
    REQUIRE(scan(b.data(), b.size(), m, &rrs) == ScanStatus::ok);
    size_t rdlen_at = rrs[0].fixed_offset + 8u;
    put16(b.data() + rdlen_at, static_cast<uint16_t>(get16(b.data() + rdlen_at) + 1));
    b.push_back(0);
    CHECK(scan(b.data(), b.size(), m, &rrs) == ScanStatus::bad_rdata);
  }
  SUBCASE("compression loop in an owner name") {
    t::Bytes b = good;
    Message gm;
    REQUIRE(scan(good.data(), good.size(), gm, &rrs) == ScanStatus::ok);
    size_t owner = rrs[0].offset;  // a pointer to the question: make it point at itself
    b[owner] = 0xc0 | static_cast<uint8_t>(owner >> 8);
    b[owner + 1] = static_cast<uint8_t>(owner);
    CHECK(scan(b.data(), b.size(), m, &rrs) == ScanStatus::bad_name);
  }
}

TEST_CASE("build_query writes what ldns reads back") {
  t::Bytes name = t::wire_name("Example.COM.");
  QuerySpec spec;
  spec.id = 777;
  spec.flags = kFlagRD | kFlagCD;
  spec.qname = name.data();
  spec.qname_len = name.size();
  spec.qtype = kTypeMX;
  spec.edns = true;
  spec.udp_size = 1232;
  spec.do_bit = true;
  uint8_t buf[512];
  size_t n = build_query(spec, buf, sizeof buf);
  REQUIRE(n > 0);
  ldns_pkt* p = t::parse(t::Bytes(buf, buf + n));
  REQUIRE(p != nullptr);
  CHECK(ldns_pkt_id(p) == 777);
  CHECK(ldns_pkt_rd(p));
  CHECK(ldns_pkt_cd(p));
  CHECK_FALSE(ldns_pkt_qr(p));
  CHECK(ldns_pkt_edns_udp_size(p) == 1232);
  CHECK(ldns_pkt_edns_do(p));
  CHECK(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(p), 0)) == LDNS_RR_TYPE_MX);
  ldns_pkt_free(p);
  CHECK(build_query(spec, buf, 20) == 0);
}

TEST_CASE("build_question_reply echoes the question and EDNS") {
  t::Bytes q = t::query("a.example.", LDNS_RR_TYPE_A, 4096, true);
  Message m;
  REQUIRE(scan(q.data(), q.size(), m, nullptr) == ScanStatus::ok);
  uint8_t buf[512];
  size_t n = build_question_reply(q.data(), m, kRcodeBadVers, 0, 1232, buf, sizeof buf);
  Message r;
  std::vector<Rr> rrs;
  REQUIRE(scan(buf, n, r, &rrs) == ScanStatus::ok);
  CHECK(r.header.qr());
  CHECK(r.header.id == m.header.id);
  CHECK(full_rcode(r) == kRcodeBadVers);
  CHECK(r.edns.udp_size == 1232);
  CHECK(r.edns.do_bit);
  CHECK(r.qtype == kTypeA);

  t::Bytes plain = t::query("a.example.");
  REQUIRE(scan(plain.data(), plain.size(), m, nullptr) == ScanStatus::ok);
  n = build_question_reply(plain.data(), m, kRcodeRefused, 0, 1232, buf, sizeof buf);
  REQUIRE(scan(buf, n, r, nullptr) == ScanStatus::ok);
  CHECK(r.header.rcode() == kRcodeRefused);
  CHECK_FALSE(r.edns.present);
  CHECK(n == plain.size());
}

TEST_CASE("truncate_to_fit keeps whole leading RRsets and sets TC") {
  t::PacketSpec s;
  s.qname = "big.example.";
  for (int i = 0; i < 10; ++i)
    s.answer.push_back("big.example. 60 IN TXT \"" + std::string(30, 'a' + i) + "\"");
  for (int i = 0; i < 30; ++i)
    s.answer.push_back("big.example. 60 IN A 192.0.2." + std::to_string(i));
  s.additional = {"ns.example. 60 IN A 192.0.2.200"};
  t::Bytes r = t::build(s);
  Message m;
  std::vector<Rr> rrs;
  REQUIRE(scan(r.data(), r.size(), m, &rrs) == ScanStatus::ok);
  REQUIRE(r.size() > 512);

  // The TXT set fits in 512, the A set does not fit after it.
  size_t n = truncate_to_fit(r.data(), m, rrs, 512);
  CHECK(n <= 512);
  Message t2;
  std::vector<Rr> rrs2;
  REQUIRE(scan(r.data(), n, t2, &rrs2) == ScanStatus::ok);
  CHECK(t2.header.tc());
  CHECK(t2.header.ancount == 10);
  CHECK(t2.header.arcount == 0);
  for (const auto& rr : rrs2) CHECK(rr.type == kTypeTXT);

  // A limit below the first set leaves the question only.
  t::Bytes r2 = t::build(s);
  REQUIRE(scan(r2.data(), r2.size(), m, &rrs) == ScanStatus::ok);
  n = truncate_to_fit(r2.data(), m, rrs, 100);
  CHECK(n == m.question_end);
  REQUIRE(scan(r2.data(), n, t2, &rrs2) == ScanStatus::ok);
  CHECK(t2.header.ancount == 0);
  CHECK(t2.header.tc());
}

TEST_CASE("compression pointers must lead to a label of an earlier name") {
  t::PacketSpec s;
  s.answer = {"www.example.com. 60 IN A 192.0.2.1", "www.example.com. 60 IN A 192.0.2.2"};
  t::Bytes r = t::build(s);
  Message m;
  std::vector<Rr> rrs;
  REQUIRE(scan(r.data(), r.size(), m, &rrs) == ScanStatus::ok);
  // Point the second owner at the last byte of the first record's TTL (60 =
  // a 60-byte label): valid under "points backwards", but not at a name.
  size_t owner = rrs[1].offset;
  size_t target = rrs[0].ttl_offset() + 3;
  r[owner] = static_cast<uint8_t>(0xc0 | (target >> 8));
  r[owner + 1] = static_cast<uint8_t>(target);
  CHECK(scan(r.data(), r.size(), m, &rrs) == ScanStatus::bad_name);
  // Pointing at "example.com." inside the question is fine.
  r[owner + 1] = static_cast<uint8_t>(kHeaderSize + 4);
  CHECK(scan(r.data(), r.size(), m, &rrs) == ScanStatus::ok);
}
