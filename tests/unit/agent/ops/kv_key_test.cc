#include "agent/ops/kv_key.h"

#include <doctest/doctest.h>

#include <string>

using namespace cairn::ops;

namespace {

std::string refusal(std::string_view key) {
  auto e = validate_kv_key(key);
  REQUIRE(e);
  CHECK(e->code == OpErrorCode::invalid);
  CHECK(e->http_status() == 400);
  return e->message;
}

}  // namespace

TEST_CASE("ordinary keys and the root pass") {
  CHECK_FALSE(validate_kv_key(""));
  CHECK_FALSE(validate_kv_key("a"));
  CHECK_FALSE(validate_kv_key("app/config/db"));
  CHECK_FALSE(validate_kv_key("dir/"));
  CHECK_FALSE(validate_kv_key("a..b/..c/d.."));
  CHECK_FALSE(validate_kv_key("caf\xc3\xa9"));
}

TEST_CASE("invalid UTF-8 is refused") {
  CHECK(refusal("a\xff") == "Invalid key: not valid UTF-8");
}

TEST_CASE("a leading slash is refused") {
  CHECK(refusal("/a") == "Invalid key: must not begin with '/'");
}

TEST_CASE("path traversal is refused wherever the dot-dot segment sits") {
  for (const char* key : {"..", "../a", "a/../b", "a/.."})
    CHECK(refusal(key) == "Invalid key: path traversal is not allowed");
}
