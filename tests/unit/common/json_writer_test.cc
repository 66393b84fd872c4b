#include "common/json_writer.h"

#include <doctest/doctest.h>

using cairn::JsonWriter;

TEST_CASE("json writer escapes like Go's encoding/json") {
  std::string out;
  JsonWriter::quote(out, "a<b>&\"c\\\n\x01\xe2\x80\xa8");
  CHECK(out == "\"a\\u003cb\\u003e\\u0026\\\"c\\\\\\n\\u0001\\u2028\"");
  out.clear();
  JsonWriter::quote(out, "bad \xff utf8 é");
  CHECK(out == "\"bad \\ufffd utf8 é\"");
}

TEST_CASE("json writer compact and pretty layouts") {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("A", int64_t{1});
  w.key("B");
  w.begin_array();
  w.end_array();
  w.key("C");
  w.begin_array();
  w.string("x");
  w.boolean(true);
  w.end_array();
  w.end_object();
  CHECK(out == R"({"A":1,"B":[],"C":["x",true]})");

  std::string pretty;
  JsonWriter p(pretty, true);
  p.begin_object();
  p.field("A", int64_t{1});
  p.key("B");
  p.begin_object();
  p.end_object();
  p.key("C");
  p.begin_array();
  p.string("x");
  p.end_array();
  p.end_object();
  CHECK(pretty == "{\n    \"A\": 1,\n    \"B\": {},\n    \"C\": [\n        \"x\"\n    ]\n}");
}

TEST_CASE("json writer floats follow Go's shortest form") {
  auto fmt = [](double d) {
    std::string out;
    JsonWriter w(out);
    w.number(d);
    return out;
  };
  CHECK(fmt(1.5) == "1.5");
  CHECK(fmt(100) == "100");
  CHECK(fmt(1e-05) == "0.00001");
  CHECK(fmt(1e-7) == "1e-7");
  CHECK(fmt(1e21) == "1e+21");
}
