// The YAML-to-Value core: bounds on alias expansion and duplicate keys.
#include "common/value.h"

#include <doctest/doctest.h>

#include <string>

using namespace cairn;

namespace {

// "Billion laughs": nine levels of nine aliases, 9^9 scalars from ~340 bytes.
std::string alias_bomb() {
  std::string text =
      "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'i'; ++c, ++prev) {
    text += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 9; ++i) text += std::string(i ? "," : "") + "*" + prev;
    text += "]\n";
  }
  return text;
}

ParseError parse_error(const std::string& text, const ParseLimits& limits = ParseLimits{}) {
  Value v;
  ParseError err;
  CHECK_FALSE(parse_yaml(text, v, err, limits));
  return err;
}

}  // namespace

TEST_CASE("an alias bomb is refused by its expanded size, at the entry that expands") {
  ParseError err = parse_error(alias_bomb());
  CHECK(err.code == ParseError::Code::too_large);
  CHECK(err.line == 7);  // "g:" (9^7 scalars), the first top-level entry beyond the bound
  CHECK(err.message.find("more than 1000000 values") != std::string::npos);
}

TEST_CASE("the value bound counts every alias use, exactly") {
  ParseLimits limits;
  limits.max_values = 4;  // a list and three scalars
  Value v;
  ParseError err;
  CHECK(parse_yaml("[1, 2, 3]", v, err, limits));
  CHECK(v.items.size() == 3);
  err = parse_error("[1, 2, 3, 4]", limits);
  CHECK(err.code == ParseError::Code::too_large);

  limits.max_values = 7;  // map, key x, list, 1, 2, key y, alias of the list (3 more)
  err = parse_error("x: &l [1, 2]\ny: *l\n", limits);
  CHECK(err.code == ParseError::Code::too_large);
  CHECK(err.line == 2);
  limits.max_values = 9;
  CHECK(parse_yaml("x: &l [1, 2]\ny: *l\n", v, err, limits));
  CHECK(v.find("y")->items.size() == 2);
}

TEST_CASE("the text bound counts alias uses of a long string") {
  ParseLimits limits;
  limits.max_text_bytes = 1000;
  std::string text = "a: &s " + std::string(400, 'x') + "\nb: [*s, *s]\n";
  ParseError err = parse_error(text, limits);  // 1 + 400 + 1 + 800 bytes
  CHECK(err.code == ParseError::Code::too_large);
  CHECK(err.line == 2);
  CHECK(err.message.find("1000 bytes") != std::string::npos);
  Value v;
  CHECK(parse_yaml("a: &s " + std::string(400, 'x') + "\nb: *s\n", v, err, limits));
}

TEST_CASE("deep nesting is still refused before conversion") {
  std::string text(100, '[');
  text += std::string(100, ']');
  ParseError err = parse_error(text);
  CHECK(err.code == ParseError::Code::too_deep);
}

TEST_CASE("a repeated key is an error naming both lines, in block and flow (JSON) maps") {
  ParseError err = parse_error("service:\n  name: a\nport: 1\nservice:\n  name: b\n");
  CHECK(err.code == ParseError::Code::duplicate_key);
  CHECK(err.line == 4);
  CHECK(err.message == "duplicate key \"service\" (first at line 1)");

  err = parse_error("{\"service\": {\"name\": \"a\",\n \"name\": \"b\"}}");
  CHECK(err.code == ParseError::Code::duplicate_key);
  CHECK(err.line == 2);
  CHECK(err.message == "duplicate key \"name\" (first at line 1)");

  ParseLimits lenient;
  lenient.reject_duplicate_keys = false;
  Value v;
  CHECK(parse_yaml("a: 1\na: 2\n", v, err, lenient));
  CHECK(v.fields.size() == 2);
}

TEST_CASE("equal keys in different maps, and one anchored map used twice, are not duplicates") {
  Value v;
  ParseError err;
  REQUIRE(parse_yaml("x: &m {name: a, port: 1}\ny: *m\nz: {name: b}\n", v, err));
  CHECK(v.find("y")->find("port")->s == "1");
  CHECK(v.find("z")->find("name")->s == "b");
}
