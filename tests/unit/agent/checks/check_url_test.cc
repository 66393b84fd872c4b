#include "agent/checks/check_url.h"

#include <doctest/doctest.h>

using namespace cairn::checks;

TEST_CASE("parses what HTTP checks use") {
  std::string err;
  auto u = parse_check_url("http://127.0.0.1:8080/health?full=1", &err);
  REQUIRE(u);
  CHECK(!u->https);
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == 8080);
  CHECK(u->authority == "127.0.0.1:8080");
  CHECK(u->target == "/health?full=1");

  u = parse_check_url("https://example.com", &err);
  REQUIRE(u);
  CHECK(u->https);
  CHECK(u->port == 443);
  CHECK(u->target == "/");
  CHECK(u->authority == "example.com");

  u = parse_check_url("http://[::1]:9000/x#frag", &err);
  REQUIRE(u);
  CHECK(u->host == "::1");
  CHECK(u->authority == "[::1]:9000");
  CHECK(u->target == "/x");

  u = parse_check_url("HTTP://user:p%40ss@h?q", &err);
  REQUIRE(u);
  CHECK(u->userinfo == "user:p%40ss");
  CHECK(u->target == "/?q");

  u = parse_check_url("http://h/a b", &err);
  REQUIRE(u);
  CHECK(u->target == "/a%20b");
}

TEST_CASE("rejects URLs a check can never use, saying why") {
  std::string err;
  CHECK(!parse_check_url("ftp://x/", &err));
  CHECK(err.find("scheme") != std::string::npos);
  CHECK(!parse_check_url("http://", &err));
  CHECK(!parse_check_url("http://:80/", &err));
  CHECK(!parse_check_url("http://h:0/", &err));
  CHECK(!parse_check_url("http://h:99999/", &err));
  CHECK(!parse_check_url("http://h:8o/", &err));
  CHECK(!parse_check_url("http://[::1/", &err));
  CHECK(!parse_check_url("http://a b/", &err));
  CHECK(!parse_check_url("localhost:8080/health", &err));
}

TEST_CASE("resolves redirect locations like Go's ResolveReference") {
  auto r = [](const char* base, const char* loc) {
    auto out = resolve_location(base, loc);
    return out ? *out : std::string("<none>");
  };
  CHECK(r("http://h:1/a/b?x", "https://o/p") == "https://o/p");
  CHECK(r("http://h:1/a/b?x", "/c") == "http://h:1/c");
  CHECK(r("http://h:1/a/b?x", "c") == "http://h:1/a/c");
  CHECK(r("http://h:1/a/b?x", "../c") == "http://h:1/c");
  CHECK(r("http://h:1/a/b?x", "./c/./d/../e") == "http://h:1/a/c/e");
  CHECK(r("http://h:1/a/b?x", "?y") == "http://h:1/a/b?y");
  CHECK(r("https://h/a", "//other:8443/z") == "https://other:8443/z");
  CHECK(r("http://h/a", "/b#frag") == "http://h/b");
  CHECK(r("http://h/a", "mailto:x@y") == "<none>");
  CHECK(r("http://h/a", "http://") == "<none>");
}
