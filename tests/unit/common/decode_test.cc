#include "common/decode.h"

#include <doctest/doctest.h>

using namespace cairn;

namespace {
Value yaml(const char* text) {
  Value v;
  ParseError err;
  REQUIRE(parse_yaml(text, v, err));
  return v;
}
}  // namespace

TEST_CASE("yaml plain scalars take the type of the field they fill") {
  Value v = yaml("port: 8080\nname: 123\nok: true\nquoted: \"42\"\n");
  Decoder d("f.yaml", true);
  CHECK(d.integer(*v.find("port"), 0, 65535) == 8080);
  CHECK(d.str(*v.find("name")) == "123");
  CHECK(d.boolean(*v.find("ok")));
  CHECK_THROWS_AS(d.integer(*v.find("quoted"), 0, 100), DecodeError);
}

TEST_CASE("decode errors name file, line and field path") {
  Value v = yaml("service:\n  name: web\n  port: http\n");
  Decoder d("web.yaml", true);
  try {
    d.object(v, [&](std::string_view key, const Value& svc) {
      CHECK(key == "service");
      d.object(svc, [&](std::string_view k, const Value& f) {
        if (k == "port") d.integer(f, 0, 65535);
        return true;
      });
      return true;
    });
    FAIL("expected an error");
  } catch (const DecodeError& e) {
    CHECK(format_decode_error(e) == "web.yaml:3: service.port: expected an integer, got \"http\"");
  }
}

TEST_CASE("strict decoders reject unknown keys, lenient ones skip them") {
  Value v = yaml("a: 1\nb: 2\n");
  Decoder strict("x.yaml", true);
  CHECK_THROWS_AS(strict.object(v, [](std::string_view k, const Value&) { return k == "a"; }),
                  DecodeError);
  Decoder lenient("", false);
  CHECK_NOTHROW(lenient.object(v, [](std::string_view k, const Value&) { return k == "a"; }));
}

TEST_CASE("strict decoders reject one field given twice in two spellings") {
  Value v = yaml("NodeName: a\nport: 1\nnode_name: b\n");
  Decoder strict("x.yaml", true);
  try {
    strict.object(v, [](std::string_view, const Value&) { return true; });
    FAIL("expected an error");
  } catch (const DecodeError& e) {
    CHECK(format_decode_error(e) ==
          "x.yaml:3: node_name: duplicate field (also given as \"NodeName\")");
  }
  // HTTP bodies stay lenient, as Go's encoding/json is.
  Decoder lenient("", false);
  int seen = 0;
  lenient.object(v, [&](std::string_view, const Value&) { return ++seen > 0; });
  CHECK(seen == 3);
}

TEST_CASE("json bodies keep exact kinds and keys normalize") {
  Value v;
  ParseError err;
  REQUIRE(parse_json(R"({"EnableTagOverride":true,"Flags":18446744073709551615,"x":1.5})", v, err));
  CHECK(v.find("enabletagoverride")->b);
  CHECK(v.find("flags")->kind == Value::Kind::uinteger);
  CHECK(normalize_key("enable_tag_override") == "enabletagoverride");
  CHECK_FALSE(parse_json("{\"a\":", v, err));
  CHECK_FALSE(err.message.empty());
}

TEST_CASE("durations decode from strings and nanosecond numbers") {
  Value v;
  ParseError err;
  REQUIRE(parse_json(R"({"a":"10s","b":1000000000,"c":"ten"})", v, err));
  Decoder d("", false);
  CHECK(d.duration(*v.find("a")) == 10 * kSecond);
  CHECK(d.duration(*v.find("b")) == kSecond);
  CHECK_THROWS_AS(d.duration(*v.find("c")), DecodeError);
}

TEST_CASE("a bad duration in an HTTP body is refused in Go's words, in a file with a hint") {
  Value v;
  ParseError err;
  REQUIRE(parse_json(R"({"TTL":"5x"})", v, err));
  auto message = [&](bool strict) {
    Decoder d(strict ? "web.json" : "", strict);
    try {
      d.duration(*v.find("ttl"));
    } catch (const DecodeError& e) {
      return e.message();
    }
    return std::string("accepted");
  };
  CHECK(message(false) == "time: unknown unit \"x\" in duration \"5x\"");
  CHECK(message(true) == "expected a duration like \"10s\" or \"1m30s\", got \"5x\"");
}
