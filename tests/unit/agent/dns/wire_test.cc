#include "common/dns/name.h"
#include "common/dns/query.h"
#include "common/dns/writer.h"

#include <doctest/doctest.h>

#include "tests/unit/agent/dns/dns_test_util.h"

using namespace cairn::dns;
using cairn::dns::test::make_query;

namespace {

ParseStatus parse(const std::vector<uint8_t>& p, Query& q) {
  return parse_query(p, q);
}

}  // namespace

TEST_CASE("a plain query parses with its question as sent and lower-cased") {
  Query q;
  auto p = make_query("Web.Service.CONSUL", kTypeSRV);
  REQUIRE(parse(p, q) == ParseStatus::ok);
  CHECK(q.id == 0x1234);
  CHECK(q.rd);
  CHECK(q.qtype == kTypeSRV);
  CHECK(q.qclass == kClassIN);
  CHECK(!q.has_edns);
  CHECK(to_text(q.qname.data(), q.qname_len) == "Web.Service.CONSUL.");
  CHECK(to_text(q.qname_lc.data(), q.qname_len) == "web.service.consul.");
}

TEST_CASE("EDNS0 size, version and Client Subnet are read") {
  Query q;
  test::QueryOptions o;
  o.edns_size = 4096;
  o.ecs = std::vector<uint8_t>{0, 1, 24, 0, 10, 1, 2};  // IPv4 10.1.2.0/24
  REQUIRE(parse(make_query("a.consul", kTypeA, o), q) == ParseStatus::ok);
  CHECK(q.has_edns);
  CHECK(q.edns_udp_size == 4096);
  CHECK(q.ecs.present);
  CHECK(q.ecs.family == 1);
  CHECK(q.ecs.source_prefix == 24);
  CHECK(q.ecs.address[0] == 10);
  CHECK(q.ecs.address[2] == 2);
  CHECK(q.ecs.address[3] == 0);

  o.ecs = std::vector<uint8_t>{0, 1, 24, 0, 10, 1};  // address shorter than the prefix says
  CHECK(parse(make_query("a.consul", kTypeA, o), q) == ParseStatus::formerr);
  o.ecs.reset();
  o.edns_version = 1;
  CHECK(parse(make_query("a.consul", kTypeA, o), q) == ParseStatus::badvers);
}

TEST_CASE("bad packets are dropped or refused with the right code") {
  Query q;
  auto good = make_query("web.service.consul", kTypeA);

  SUBCASE("shorter than a header") {
    std::vector<uint8_t> p(good.begin(), good.begin() + 11);
    CHECK(parse(p, q) == ParseStatus::drop);
  }
  SUBCASE("a response sent as a query") {
    auto p = good;
    p[2] |= 0x80;
    CHECK(parse(p, q) == ParseStatus::drop);
  }
  SUBCASE("truncated question") {
    for (size_t cut = 12; cut < good.size(); ++cut) {
      std::vector<uint8_t> p(good.begin(), good.begin() + static_cast<long>(cut));
      CHECK(parse(p, q) == ParseStatus::formerr);
    }
  }
  SUBCASE("QDCOUNT 0 and 2") {
    auto p = good;
    p[5] = 0;
    CHECK(parse(p, q) == ParseStatus::formerr);
    p[5] = 2;
    CHECK(parse(p, q) == ParseStatus::formerr);
  }
  SUBCASE("unknown opcode") {
    auto p = good;
    p[2] = static_cast<uint8_t>((p[2] & 0x87) | (5 << 3));  // UPDATE
    CHECK(parse(p, q) == ParseStatus::notimp);
    CHECK(q.has_question);
  }
  SUBCASE("compression pointer in the question (a loop onto itself)") {
    std::vector<uint8_t> p(good.begin(), good.begin() + 12);
    p.push_back(0xC0);
    p.push_back(12);
    p.insert(p.end(), {0, 1, 0, 1});
    CHECK(parse(p, q) == ParseStatus::formerr);
  }
  SUBCASE("reserved label type") {
    auto p = good;
    p[12] = 0x43;
    CHECK(parse(p, q) == ParseStatus::formerr);
  }
  SUBCASE("label length past the end") {
    auto p = good;
    p[12] = 60;
    CHECK(parse(p, q) == ParseStatus::formerr);
  }
  SUBCASE("answer records in a query") {
    auto p = good;
    p[7] = 1;
    CHECK(parse(p, q) == ParseStatus::formerr);
  }
  SUBCASE("additional record with a forward pointer loop") {
    auto p = good;
    p[11] = 1;
    size_t at = p.size();
    p.push_back(0xC0);
    p.push_back(static_cast<uint8_t>(at));  // points at itself
    p.insert(p.end(), {0, 41, 16, 0, 0, 0, 0, 0, 0, 0});
    CHECK(parse(p, q) == ParseStatus::formerr);
  }
  SUBCASE("two OPT records") {
    test::QueryOptions o;
    o.edns_size = 1232;
    auto p = make_query("a.consul", kTypeA, o);
    std::vector<uint8_t> opt(p.end() - 11, p.end());
    p.insert(p.end(), opt.begin(), opt.end());
    p[11] = 2;
    CHECK(parse(p, q) == ParseStatus::formerr);
  }
}

TEST_CASE("a name of 255 bytes parses, one more byte does not") {
  Query q;
  std::string label(63, 'a');
  // 4 labels of 63 (256 bytes with the lengths and root) is too long; 3 + 61 fits exactly.
  std::string ok = label + "." + label + "." + label + "." + std::string(61, 'b');
  auto p = make_query(ok, kTypeA);
  CHECK(parse(p, q) == ParseStatus::ok);
  CHECK(q.qname_len == 255);
  std::string wire;
  CHECK_FALSE(name_to_wire(label + "." + label + "." + label + "." + label, wire));
}

TEST_CASE("name_to_wire and to_text") {
  std::string w;
  REQUIRE(name_to_wire("web.service.consul.", w));
  CHECK(w == std::string("\3web\7service\6consul\0", 20));
  REQUIRE(name_to_wire("web.service.consul", w));
  CHECK(w.size() == 20);
  CHECK(name_to_wire(".", w));
  CHECK(w == std::string("\0", 1));
  CHECK_FALSE(name_to_wire("a..b", w));
  CHECK_FALSE(name_to_wire(std::string(64, 'x'), w));
  CHECK(to_text(reinterpret_cast<const uint8_t*>("\3a.b\0"), 5) == "a\\.b.");
}

TEST_CASE("the writer compresses repeated suffixes and ldns reads the result") {
  std::vector<uint8_t> buf(512);
  Writer w;
  w.reset(buf.data(), buf.size(), true);
  // Header with one question and three answers.
  for (uint16_t v : {0x1234, 0x8400, 1, 3, 0, 0}) w.u16(v);
  std::string q, t1, t2;
  name_to_wire("web.service.consul", q);
  name_to_wire("web-01.node.dc1.consul", t1);
  name_to_wire("web-02.node.dc1.consul", t2);
  w.bytes(q);
  w.note_name(12, q);
  w.u16(kTypeSRV);
  w.u16(kClassIN);
  for (const std::string* t : {&t1, &t2, &t1}) {
    w.name(q);
    w.u16(kTypeSRV);
    w.u16(kClassIN);
    w.u32(0);
    size_t at = w.begin_length();
    w.u16(1);
    w.u16(1);
    w.u16(80);
    w.name(*t, false);
    w.end_length(at);
  }
  REQUIRE_FALSE(w.overflow());
  test::Response r(buf.data(), w.size());
  REQUIRE(r.ok());
  auto ans = r.answer();
  REQUIRE(ans.size() == 3);
  CHECK(ans[0] == "web.service.consul. 0 IN SRV 1 1 80 web-01.node.dc1.consul.");
  CHECK(ans[1] == "web.service.consul. 0 IN SRV 1 1 80 web-02.node.dc1.consul.");
  // Owners are pointers (2 bytes each): 12 + 24 + 3 * (2 + 10 + 6) + 24 + 24 + 24.
  CHECK(w.size() == 12 + 24 + 3 * 18 + 3 * 24);
}

TEST_CASE("the writer stops at its capacity and says so") {
  std::vector<uint8_t> buf(16);
  Writer w;
  w.reset(buf.data(), buf.size(), true);
  for (int i = 0; i < 10; ++i) w.u16(1);
  CHECK(w.overflow());
  CHECK(w.size() == 16);
}
