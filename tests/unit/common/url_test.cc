#include "common/http/url.h"

#include <doctest/doctest.h>

using namespace cairn::http;

TEST_CASE("percent decoding") {
  CHECK(percent_decode("a%2Fb", false) == "a/b");
  CHECK(percent_decode("a+b", false) == "a+b");
  CHECK(percent_decode("a+b", true) == "a b");
  CHECK_FALSE(percent_decode("a%2", false));
  CHECK_FALSE(percent_decode("a%zz", false));
  CHECK(percent_encode("a b/c", true) == "a%20b/c");
}

TEST_CASE("query parsing keeps order and empty values") {
  Params p;
  REQUIRE(parse_query("index=5&passing&tag=a&tag=b%20c", p));
  REQUIRE(p.size() == 4);
  CHECK(p[0] == std::pair<std::string, std::string>{"index", "5"});
  CHECK(p[1].first == "passing");
  CHECK(p[1].second.empty());
  CHECK(p[3].second == "b c");
  Params bad;
  CHECK_FALSE(parse_query("a=%", bad));
}
