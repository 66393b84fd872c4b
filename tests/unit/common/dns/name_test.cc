#include <doctest/doctest.h>

#include "common/dns/name.h"
#include "common/dns/wire.h"
#include "tests/unit/common/dns/packets.h"

using namespace cairn::dns;
using cairn::dns::testing::Bytes;
using cairn::dns::testing::wire_name;

namespace {
// A fake message: 12 header bytes then the given body.
Bytes msg(std::initializer_list<uint8_t> body) {
  Bytes m(12 + body.size(), 0);
  size_t i = 12;
  for (uint8_t b : body) m[i++] = b;
  return m;
}
}  // namespace

TEST_CASE("walk_name follows backward pointers and rejects everything else") {
  // 12: \3www\7example\3com\0   29: \3api <ptr 16> (api.example.com)
  Bytes m = msg({3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p',  'l', 'e',
                 3, 'c', 'o', 'm', 0, 3,   'a', 'p', 'i', 0xc0, 16});
  size_t end = 0;
  CHECK(walk_name(m.data(), m.size(), 12, end));
  CHECK(end == 29);
  CHECK(walk_name(m.data(), m.size(), 29, end));
  CHECK(end == 35);

  SUBCASE("forward pointer") {
    Bytes f = msg({0xc0, 14, 0});
    CHECK_FALSE(walk_name(f.data(), f.size(), 12, end));
  }
  SUBCASE("pointer to itself") {
    Bytes f = msg({0xc0, 12});
    CHECK_FALSE(walk_name(f.data(), f.size(), 12, end));
  }
  SUBCASE("two pointers forming a loop") {
    // 12: ptr->14, 14: ptr->12: the second hop does not move backwards past the first.
    Bytes f = msg({1, 'a', 0xc0, 12});
    CHECK_FALSE(walk_name(f.data(), f.size(), 12, end));
  }
  SUBCASE("pointer into the header") {
    Bytes f = msg({0xc0, 2});
    CHECK_FALSE(walk_name(f.data(), f.size(), 12, end));
  }
  SUBCASE("reserved label types") {
    Bytes f = msg({0x41, 'a', 0});
    CHECK_FALSE(walk_name(f.data(), f.size(), 12, end));
    Bytes g = msg({0x81, 'a', 0});
    CHECK_FALSE(walk_name(g.data(), g.size(), 12, end));
  }
  SUBCASE("label running past the end") {
    Bytes f = msg({5, 'a', 'b'});
    CHECK_FALSE(walk_name(f.data(), f.size(), 12, end));
  }
  SUBCASE("missing terminator") {
    Bytes f = msg({1, 'a'});
    CHECK_FALSE(walk_name(f.data(), f.size(), 12, end));
  }
  SUBCASE("pointer cut in half") {
    Bytes f = msg({1, 'a', 0, 0xc0});
    CHECK_FALSE(walk_name(f.data(), f.size(), 15, end));
  }
}

TEST_CASE("names longer than 255 bytes are rejected, also through pointers") {
  Bytes m(12, 0);
  // 4 labels of 63 = 256 bytes with the length bytes: one too many before the root.
  for (int i = 0; i < 4; ++i) {
    m.push_back(63);
    m.insert(m.end(), 63, 'a');
  }
  m.push_back(0);
  size_t end = 0;
  CHECK_FALSE(walk_name(m.data(), m.size(), 12, end));
  CHECK_FALSE(read_uncompressed_name(m.data(), m.size(), 12, end));

  // 3 x 63 + a 62-byte label: 254 + root = 255: allowed.
  Bytes ok(12, 0);
  for (int i = 0; i < 3; ++i) {
    ok.push_back(63);
    ok.insert(ok.end(), 63, 'a');
  }
  ok.push_back(61);
  ok.insert(ok.end(), 61, 'b');
  ok.push_back(0);
  CHECK(read_uncompressed_name(ok.data(), ok.size(), 12, end));
  CHECK(end - 12 == 255);
  CHECK(walk_name(ok.data(), ok.size(), 12, end));

  // Prefixing it with a label through a pointer goes over the limit.
  size_t target = 12;
  ok.push_back(1);
  ok.push_back('x');
  ok.push_back(0xc0);
  ok.push_back(static_cast<uint8_t>(target));
  CHECK_FALSE(walk_name(ok.data(), ok.size(), 12 + 255, end));
}

TEST_CASE("read_uncompressed_name refuses pointers") {
  Bytes m = msg({1, 'a', 0, 0xc0, 12});
  size_t end = 0;
  CHECK(read_uncompressed_name(m.data(), m.size(), 12, end));
  CHECK_FALSE(read_uncompressed_name(m.data(), m.size(), 15, end));
}

TEST_CASE("is_subdomain matches whole labels, case-insensitively") {
  Bytes name = wire_name("Web.Service.CONSUL.");
  Bytes consul = wire_name("consul.");
  Bytes sul = wire_name("sul.");
  Bytes root = wire_name(".");
  CHECK(is_subdomain(name.data(), name.size(), consul.data(), consul.size()));
  CHECK(is_subdomain(name.data(), name.size(), root.data(), root.size()));
  CHECK(is_subdomain(consul.data(), consul.size(), consul.data(), consul.size()));
  CHECK_FALSE(is_subdomain(name.data(), name.size(), sul.data(), sul.size()));
  CHECK_FALSE(is_subdomain(consul.data(), consul.size(), name.data(), name.size()));
}

TEST_CASE("text conversion") {
  std::vector<uint8_t> w;
  std::string err;
  REQUIRE(from_text("Service.Consul", w, err));
  CHECK(w == wire_name("service.consul."));
  CHECK(to_text(w.data(), w.size()) == "service.consul.");
  REQUIRE(from_text(".", w, err));
  CHECK(w.size() == 1);
  CHECK(to_text(w.data(), w.size()) == ".");
  REQUIRE(from_text("a\\.b.example", w, err));
  CHECK(to_text(w.data(), w.size()) == "a\\.b.example.");
  CHECK_FALSE(from_text(std::string(64, 'a') + ".com", w, err));
  CHECK_FALSE(err.empty());
  CHECK_FALSE(from_text("", w, err));
  CHECK_FALSE(from_text("a..b", w, err));
  uint8_t odd[] = {2, 'a', 0x01, 0};
  CHECK(to_text(odd, sizeof odd) == "a\\001.");
}

TEST_CASE("a pointer's target name must end before the pointer") {
  // 12: \1a <ptr 17>; 16: 0 ... the name at 12 is fine on its own, but a
  // pointer at 15 to offset 13 would lead into bytes at and after itself.
  Bytes m = msg({1, 'a', 0, 3, 'b', 'c', 'd', 0xc0, 15, 0});
  size_t end = 0;
  CHECK(walk_name(m.data(), m.size(), 12, end));
  // 19: pointer to 15 ("\3bcd" then the pointer bytes themselves): rejected.
  CHECK_FALSE(walk_name(m.data(), m.size(), 19, end));
}
