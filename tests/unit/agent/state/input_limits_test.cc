#include "agent/state/input_limits.h"

#include <doctest/doctest.h>

using namespace cairn::state;

TEST_CASE("kv keys are bounded at 8 KiB with Consul-style text") {
  CHECK_FALSE(check_kv_key(std::string(kMaxKVKeyBytes, 'k')));
  auto e = check_kv_key(std::string(60 * 1024, 'k'));
  REQUIRE(e);
  CHECK(e->limit == "kv_key_bytes");
  CHECK(e->message == "Invalid key: 61440 bytes is too long, max size: 8192 bytes");
}

TEST_CASE("a service is checked field by field and the message names the field") {
  Service s;
  s.id = "web-1";
  s.name = "web";
  s.tags.assign(kMaxTags, "t");
  for (size_t i = 0; i < kMaxMetaPairs; ++i)
    s.meta["k" + std::to_string(i)] = std::string(512, 'v');
  CHECK_FALSE(check_service(s));

  Service ids = s;
  ids.id.assign(3 * 1024 * 1024, 'i');
  auto e = check_service(ids);
  REQUIRE(e);
  CHECK(e->limit == "identifier_bytes");
  CHECK(e->message == "ID: 3145728 bytes is too long, max size: 1024 bytes");

  Service tags = s;
  tags.tags.assign(100'000, "t");
  e = check_service(tags);
  REQUIRE(e);
  CHECK(e->limit == "tags");
  CHECK(e->message == "Tags: 100000 tags are too many, max: 1024");

  Service long_tag = s;
  long_tag.tags = {std::string(kMaxTagBytes + 1, 't')};
  e = check_service(long_tag);
  REQUIRE(e);
  CHECK(e->limit == "tag_bytes");

  Service meta = s;
  meta.meta["extra"] = "v";
  e = check_service(meta);
  REQUIRE(e);
  CHECK(e->message == "Meta: at most 64 pairs are allowed, got 65");
  meta = s;
  meta.meta["k0"] = std::string(513, 'v');
  e = check_service(meta);
  REQUIRE(e);
  CHECK(e->message == "Meta: value of \"k0\" is longer than 512 characters");

  Service addrs = s;
  for (int i = 0; i < 65; ++i) addrs.tagged_addresses["a" + std::to_string(i)] = {};
  e = check_service(addrs);
  REQUIRE(e);
  CHECK(e->limit == "tagged_addresses");
}

TEST_CASE("check counts and check identifiers are bounded") {
  CHECK_FALSE(check_check_count(kMaxChecksPerRegistration));
  auto e = check_check_count(10'000);
  REQUIRE(e);
  CHECK(e->message == "Checks: 10000 checks in one registration are too many, max: 256");
  Check c;
  c.check_id = std::string(kMaxIdentifierBytes + 1, 'c');
  e = check_check("Checks[3].", c);
  REQUIRE(e);
  CHECK(e->message == "Checks[3].CheckID: 1025 bytes is too long, max size: 1024 bytes");
}
