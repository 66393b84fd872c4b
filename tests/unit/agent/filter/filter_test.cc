#include "agent/filter/filter.h"

#include <doctest/doctest.h>

#include <chrono>
#include <vector>

using cairn::Value;
using cairn::filter::Expression;

namespace {

Value json(std::string_view text) {
  Value v;
  cairn::ParseError err;
  REQUIRE_MESSAGE(cairn::parse_json(text, v, err), err.message);
  return v;
}

bool eval(std::string_view expression, const Value& item) {
  std::string error;
  auto e = Expression::parse(expression, error);
  REQUIRE_MESSAGE(e, expression << ": " << error);
  return e->matches(item);
}

bool eval(std::string_view expression, std::string_view item_json) {
  return eval(expression, json(item_json));
}

// The message bexpr gives, less the prefix every error has.
std::string error_of(std::string_view expression) {
  std::string error;
  auto e = Expression::parse(expression, error);
  CHECK_MESSAGE(!e, expression);
  const std::string prefix = "Failed to create boolean expression evaluator: ";
  CHECK(error.substr(0, prefix.size()) == prefix);
  return error.substr(std::min(error.size(), prefix.size()));
}

// Applies a filter to a JSON list or object of results, as the HTTP layer will; returns the
// IDs (or keys) of what remains.
std::vector<std::string> filter_ids(std::string_view expression, std::string_view results,
                                    std::string_view id_field) {
  std::string error;
  auto e = Expression::parse(expression, error);
  REQUIRE_MESSAGE(e, error);
  Value all = json(results);
  std::vector<std::string> kept;
  if (all.is_object()) {
    for (const auto& [key, item] : all.fields)
      if (e->matches(item)) kept.push_back(key);
  } else {
    for (const Value& item : all.items)
      if (e->matches(item)) {
        for (const auto& [k, v] : item.fields)
          if (k == id_field) kept.push_back(v.s);
      }
  }
  return kept;
}

// /v1/agent/services from Consul's filtering documentation.
constexpr std::string_view kAgentServices = R"({
  "redis1": {"ID": "redis1", "Service": "redis", "Tags": ["primary", "production"],
             "Meta": {"env": "production", "foo": "bar"}, "Port": 1234, "Address": "",
             "Weights": {"Passing": 1, "Warning": 1}, "EnableTagOverride": false},
  "redis2": {"ID": "redis2", "Service": "redis", "Tags": ["secondary", "production"],
             "Meta": {"env": "production", "foo": "bar"}, "Port": 1235, "Address": "",
             "Weights": {"Passing": 1, "Warning": 1}, "EnableTagOverride": false},
  "redis3": {"ID": "redis3", "Service": "redis", "Tags": ["primary", "qa"],
             "Meta": {"env": "qa"}, "Port": 1234, "Address": "",
             "Weights": {"Passing": 1, "Warning": 1}, "EnableTagOverride": false}
})";

// /v1/catalog/service/api-internal from the same page (abridged).
constexpr std::string_view kCatalogService = R"([
  {"ID": "b4f64e8c", "Node": "node-1", "Address": "198.18.0.1", "Datacenter": "dc1",
   "TaggedAddresses": null, "NodeMeta": {"agent": "true", "arch": "i386", "os": "darwin"},
   "ServiceID": "api-internal", "ServiceName": "api-internal", "ServiceTags": ["tag"],
   "ServiceMeta": {"environment": "qa"}, "ServicePort": 9090, "CreateIndex": 30},
  {"ID": "b4faf93a", "Node": "node-2", "Address": "198.18.0.2", "Datacenter": "dc1",
   "TaggedAddresses": null, "NodeMeta": {"arch": "arm", "os": "linux"},
   "ServiceID": "api-internal", "ServiceName": "api-internal", "ServiceTags": ["test", "tag"],
   "ServiceMeta": {"environment": "production"}, "ServicePort": 9090, "CreateIndex": 29},
  {"ID": "b4fbe7f4", "Node": "node-4", "Address": "198.18.0.4", "Datacenter": "dc1",
   "TaggedAddresses": null, "NodeMeta": {"arch": "i386", "os": "freebsd"},
   "ServiceID": "api-internal", "ServiceName": "api-internal", "ServiceTags": [],
   "ServiceMeta": {"environment": "qa"}, "ServicePort": 9090, "CreateIndex": 28}
])";

// /v1/health/node/node-1 from the same page.
constexpr std::string_view kNodeChecks = R"([
  {"Node": "node-1", "CheckID": "node-health", "Name": "Node level check",
   "Status": "critical", "ServiceID": "", "ServiceName": "", "ServiceTags": []},
  {"Node": "node-1", "CheckID": "svc-web-health", "Name": "Service level check - web",
   "Status": "warning", "ServiceID": "", "ServiceName": "web", "ServiceTags": []}
])";

// /v1/health/service/web: entries with a list of checks each.
constexpr std::string_view kHealthService = R"([
  {"Node": {"Node": "n1", "Meta": {"env": "prod", "a.b": "dotted"}},
   "Service": {"ID": "web1", "Service": "web", "Tags": ["v1"], "Port": 80},
   "Checks": [{"CheckID": "serfHealth", "Status": "passing"},
              {"CheckID": "service:web1", "Status": "passing"}]},
  {"Node": {"Node": "n2", "Meta": {"env": "prod"}},
   "Service": {"ID": "web2", "Service": "web", "Tags": ["v2"], "Port": 80},
   "Checks": [{"CheckID": "serfHealth", "Status": "passing"},
              {"CheckID": "service:web2", "Status": "critical"}]},
  {"Node": {"Node": "n3", "Meta": {}},
   "Service": {"ID": "web3", "Service": "web", "Tags": [], "Port": 8080},
   "Checks": []}
])";

std::vector<std::string> health_ids(std::string_view expression) {
  std::string error;
  auto e = Expression::parse(expression, error);
  REQUIRE_MESSAGE(e, error);
  std::vector<std::string> kept;
  for (const Value& entry : json(kHealthService).items)
    if (e->matches(entry)) kept.push_back(entry.fields[1].second.fields[0].second.s);
  return kept;
}

using Ids = std::vector<std::string>;

const char* const kService = R"({
  "ID": "web1", "Service": "web", "Tags": ["primary", "v1", ""], "Port": 8080,
  "Meta": {"env": "prod", "version": "1.2.3", "a.b": "dotted", "empty": ""},
  "Weights": {"Passing": 10, "Warning": 1}, "EnableTagOverride": false,
  "TaggedAddresses": null, "Address": "", "Proxy": {}, "Flags": 18446744073709551615,
  "Ratio": 0.5, "Nested": {"Lists": [[{"X": "deep"}]]}
})";

}  // namespace

TEST_CASE("examples from Consul's filtering documentation") {
  CHECK(filter_ids(R"(Meta.env == "qa")", kAgentServices, "") == Ids{"redis3"});
  CHECK(filter_ids(R"(NodeMeta.os == "linux")", kCatalogService, "Node") == Ids{"node-2"});
  CHECK(filter_ids(R"(ServiceName != "")", kNodeChecks, "CheckID") == Ids{"svc-web-health"});
  CHECK(filter_ids(R"(ServiceMeta.foo == "x")", kCatalogService, "Node").empty());
  CHECK(filter_ids(R"(ServiceMeta["environment"] == "qa")", kCatalogService, "Node") ==
        Ids{"node-1", "node-4"});
  CHECK(filter_ids(R"("primary" in Tags)", kAgentServices, "") == Ids{"redis1", "redis3"});
  CHECK(filter_ids(R"(Tags contains "production" and Port != 1235)", kAgentServices, "") ==
        Ids{"redis1"});
  CHECK(filter_ids("ServiceTags is empty", kCatalogService, "Node") == Ids{"node-4"});
}

TEST_CASE("== and != compare text exactly") {
  CHECK(eval(R"(Service == "web")", kService));
  CHECK_FALSE(eval(R"(Service == "Web")", kService));  // values are case-sensitive
  CHECK_FALSE(eval(R"(Service == "we")", kService));
  CHECK(eval(R"(Service != "db")", kService));
  CHECK_FALSE(eval(R"(Service != "web")", kService));
  CHECK(eval(R"(Address == "")", kService));
  CHECK(eval(R"(Meta.env == "prod")", kService));
  CHECK(eval("Meta.env==prod", kService));  // spaces around == are optional
}

TEST_CASE("selectors are case-sensitive, as bexpr's field names") {
  CHECK_FALSE(eval(R"(service == "web")", kService));
  CHECK(eval(R"(service != "web")", kService));
  CHECK_FALSE(eval(R"(Meta.ENV == "prod")", kService));
}

TEST_CASE("in, not in, contains, not contains") {
  // lists: an element equal to the value
  CHECK(eval(R"("primary" in Tags)", kService));
  CHECK_FALSE(eval(R"("prim" in Tags)", kService));
  CHECK(eval(R"("prim" not in Tags)", kService));
  CHECK(eval(R"(Tags contains "v1")", kService));
  CHECK(eval(R"(Tags not contains "v2")", kService));
  CHECK(eval(R"("" in Tags)", kService));
  // objects: a key
  CHECK(eval(R"("env" in Meta)", kService));
  CHECK(eval(R"(Meta contains "a.b")", kService));
  CHECK_FALSE(eval(R"("prod" in Meta)", kService));  // values are not keys
  CHECK(eval(R"(Meta not contains "missing")", kService));
  // text: a substring
  CHECK(eval(R"("eb" in Service)", kService));
  CHECK(eval(R"(Service contains "we")", kService));
  CHECK(eval(R"(Service not contains "db")", kService));
  CHECK(eval(R"("" in Service)", kService));
  // numbers have nothing inside
  CHECK_FALSE(eval(R"("80" in Port)", kService));
  CHECK(eval(R"("80" not in Port)", kService));
}

TEST_CASE("is empty and is not empty") {
  CHECK(eval("Tags is not empty", kService));
  CHECK(eval("Proxy is empty", kService));
  CHECK(eval("Address is empty", kService));
  CHECK(eval("Meta.empty is empty", kService));
  CHECK(eval("Meta is not empty", kService));
  CHECK(eval("TaggedAddresses is empty", kService));  // null
  CHECK(eval("Missing is empty", kService));
  CHECK_FALSE(eval("Missing is not empty", kService));
  CHECK(eval("Port is not empty", kService));
  CHECK(eval("EnableTagOverride is not empty", kService));
}

TEST_CASE("matches and not matches use Go regular expressions") {
  CHECK(eval(R"(Service matches "^w.b$")", kService));
  CHECK(eval(R"(Meta.version matches "^1\\.2\\.\\d+$")", kService));
  CHECK(eval(R"(Meta.version matches `^1\.2\.\d+$`)", kService));
  CHECK(eval(R"(Service not matches "^db")", kService));
  CHECK_FALSE(eval(R"(Service matches "^db")", kService));
  CHECK(eval(R"(Service matches "(?i)^WEB$")", kService));
  CHECK(eval(R"(Service matches "")", kService));
  // Missing values never match, and so always "not match".
  CHECK_FALSE(eval(R"(Meta.nope matches ".*")", kService));
  CHECK(eval(R"(Meta.nope not matches ".*")", kService));
  // Only text is matched.
  CHECK_FALSE(eval(R"(Port matches "8080")", kService));
  CHECK_FALSE(eval(R"(Tags matches "primary")", kService));
}

TEST_CASE("literals are coerced to the field's type as Go's strconv would") {
  CHECK(eval("Port == 8080", kService));
  CHECK(eval(R"(Port == "8080")", kService));
  CHECK(eval("Port == `8080`", kService));
  CHECK(eval(R"(Port == "0x1F90")", kService));
  CHECK(eval(R"(Port == "0o17620")", kService));
  CHECK(eval(R"(Port == "8_080")", kService));
  CHECK(eval("Port == 8080.0", kService));
  CHECK_FALSE(eval("Port == 8081", kService));
  CHECK(eval("Port != 8081", kService));
  CHECK_FALSE(eval(R"(Port == "abc")", kService));
  CHECK(eval(R"(Port != "abc")", kService));
  CHECK(eval("Weights.Passing == 10", kService));
  CHECK(eval("Flags == 18446744073709551615", kService));
  CHECK(eval("Ratio == 0.5", kService));
  CHECK(eval("Ratio != -0.5", kService));
  for (const char* f : {"false", "False", "FALSE", "f", "F", "0"})
    CHECK(eval(std::string("EnableTagOverride == ") + f, kService));
  CHECK(eval(R"(EnableTagOverride == "false")", kService));
  CHECK_FALSE(eval("EnableTagOverride == true", kService));
  CHECK_FALSE(eval("EnableTagOverride == no", kService));
  CHECK(eval("v == x.y", R"({"v": "x.y"})"));  // an unquoted selector stands for its text
  CHECK(error_of("Meta.version == 1.2.3") == R"(1:20 (19): rule "number": Invalid number literal)");
  CHECK(eval(R"(Port == -1 or Port == 8080)", kService));
  CHECK(eval("N == -1", R"({"N": -1})"));
}

TEST_CASE("list elements are coerced one by one") {
  Value v = json(R"({"Ports": [80, 443], "Flags": [true], "Mixed": ["80", 80, null, [80]]})");
  CHECK(eval("80 in Ports", v));
  CHECK(eval(R"("0x50" in Ports)", v));
  CHECK_FALSE(eval("81 in Ports", v));
  CHECK(eval("true in Flags", v));
  CHECK(eval("T in Flags", v));
  CHECK(eval(R"("80" in Mixed)", v));
  CHECK(eval("Mixed contains 80", v));
}

TEST_CASE("missing fields and nulls behave as bexpr's missing map keys") {
  CHECK_FALSE(eval(R"(Meta.nope == "x")", kService));
  CHECK(eval(R"(Meta.nope != "x")", kService));
  CHECK_FALSE(eval(R"("x" in Meta.nope)", kService));
  CHECK(eval(R"("x" not in Meta.nope)", kService));
  CHECK(eval("Meta.nope is empty", kService));
  CHECK_FALSE(eval("Meta.nope is not empty", kService));
  CHECK_FALSE(eval(R"(TaggedAddresses.lan == "x")", kService));
  CHECK(eval(R"(TaggedAddresses.lan != "x")", kService));
  CHECK_FALSE(eval(R"(Unknown.Field == "x")", kService));
  CHECK_FALSE(eval(R"(Port.Deeper == "x")", kService));  // a number has no fields
  CHECK(eval(R"(Port.Deeper != "x")", kService));
  CHECK_FALSE(eval(R"(Meta == "x")", kService));  // an object is never equal to a literal
  CHECK_FALSE(eval(R"(Tags == "primary")", kService));
}

TEST_CASE("a selector through a list matches if any element does") {
  CHECK(health_ids("Checks.Status == passing") == Ids{"web1", "web2"});
  CHECK(health_ids("Checks.Status == critical") == Ids{"web2"});
  // != also holds per element: "some check is not passing".
  CHECK(health_ids("Checks.Status != passing") == Ids{"web2"});
  // Consul's idiom for "all checks passing" (an entry without checks has none failing).
  CHECK(health_ids("not Checks.Status != passing") == Ids{"web1", "web3"});
  CHECK(health_ids(R"(Checks.CheckID == "service:web2")") == Ids{"web2"});
  CHECK(health_ids("Checks is empty") == Ids{"web3"});
  CHECK(health_ids(R"(Service.Tags contains "v1")") == Ids{"web1"});
  CHECK(health_ids(R"(Node.Meta.env == prod)") == Ids{"web1", "web2"});
  CHECK(health_ids(R"(Node.Meta["a.b"] == "dotted")") == Ids{"web1"});
  CHECK(health_ids("Service.Port == 8080") == Ids{"web3"});
  CHECK(eval(R"(Nested.Lists.X == "deep")", kService));  // lists of lists are flattened
}

TEST_CASE("index selectors") {
  CHECK(eval(R"(Meta["env"] == "prod")", kService));
  CHECK(eval(R"(Meta[ "a.b" ] == "dotted")", kService));
  CHECK(eval("Meta[`a.b`] == dotted", kService));
  CHECK(eval(R"(Weights["Passing"] == 10)", kService));
  CHECK_FALSE(eval(R"(Meta.a.b == "dotted")", kService));  // dots split the path
  CHECK(eval(R"("env" in Meta["env"] or Meta["env"] == "prod")", kService));
  Value v = json(R"({"M": {"key with space": {"x": "1"}}})");
  CHECK(eval(R"(M["key with space"].x == "1")", v));
  CHECK(eval(R"(M["key with space"]["x"] == 1)", v));
}

TEST_CASE("precedence is not, then and, then or") {
  Value v = json(R"({"a": 1, "b": 2, "c": 3})");
  CHECK(eval("a == 1 or a == 2 and b == 3", v));  // a==1 or (a==2 and b==3)
  CHECK_FALSE(eval("(a == 1 or a == 2) and b == 3", v));
  CHECK(eval("not a == 2 and b == 2", v));  // (not a==2) and b==2
  CHECK(eval("not (a == 1 and b == 3)", v));
  CHECK_FALSE(eval("not a == 1 or b == 3", v));  // (not a==1) or b==3
  CHECK(eval("not not a == 1", v));
  CHECK(eval("not not not a == 2", v));
  CHECK(eval("a == 1 and b == 2 and c == 3", v));
  CHECK_FALSE(eval("a == 1 and b == 2 and c == 4", v));
  CHECK(eval("a == 9 or b == 9 or c == 3", v));
  // Consul's documented equivalence.
  for (const char* doc : {R"({"a":1,"b":1,"c":1})", R"({"a":1,"b":2,"c":2})",
                          R"({"a":2,"b":2,"c":1})", R"({"a":2,"b":1,"c":2})"}) {
    Value d = json(doc);
    CHECK(eval("a == 1 and not b == 1 or c == 1", d) ==
          eval("( a == 1 and (not b == 1 )) or c == 1", d));
  }
}

TEST_CASE("parentheses and whitespace") {
  Value v = json(R"({"a": 1, "b": 2})");
  CHECK(eval("(a == 1)", v));
  CHECK(eval("((((a == 1))))", v));
  CHECK(eval(" ( a == 1 ) ", v));
  CHECK(eval("\t\r\n a \t\r\n == \t\r\n 1 \t\r\n", v));
  CHECK(eval("(a == 1) and (b == 2)", v));
  CHECK(eval("not (a == 2)", v));
  CHECK(eval("(a == 2 or (b == 2 and not (a == 3)))", v));
  CHECK(eval(
      "(((a == 1) and (not ((b == 3) and (not (a != 2))))) or (((b is empty) and (not (a is not "
      "empty))) and (b not in a)))",
      v));
}

TEST_CASE("keywords are only keywords where the grammar expects them") {
  Value v = json(R"({"not": "x", "in": "y", "and": "z", "order": "o", "Tags": ["not"]})");
  CHECK(eval("not == x", v));     // a field named "not"
  CHECK(eval("not in Tags", v));  // the value "not" (an unquoted selector) in Tags
  CHECK(eval("in == y and and == z", v));
  CHECK(eval("order == o", v));
  CHECK(eval("order == o or order == p", v));
}

TEST_CASE("string literals: escapes and raw strings") {
  Value v = json(R"({"s": "a\"b", "t": "tab\there", "bs": "c:\\dir", "u": "caf\u00e9"})");
  CHECK(eval(R"(t == "tab\there")", v));
  CHECK(eval(R"(t == "tab\x09here")", v));
  CHECK(eval("s == `a\"b`", v));  // a double-quoted string cannot hold a '"'
  CHECK(eval(R"(bs == `c:\dir`)", v));
  CHECK(eval(R"(bs == "c:\\dir")", v));
  CHECK(eval(R"(u == "caf\u00e9")", v));
  CHECK(eval("u == \"caf\xC3\xA9\"", v));
  CHECK(eval("u matches \"^caf\xC3\xA9$\"", v));
}

TEST_CASE("an empty filter matches everything; blank text is an error") {
  std::string error;
  auto e = Expression::parse("", error);
  REQUIRE(e);
  CHECK(e->matches(json(kService)));
  CHECK(e->matches(Value{}));
  CHECK(
      error_of("   ") ==
      R"(1:4 (3): no match found, expected: "(", "-", "0", "\"", "`", "not", [ \t\r\n], [1-9] or [a-zA-Z])");
}

TEST_CASE("syntax errors read like bexpr's") {
  // The cases of go-bexpr's own grammar tests.
  CHECK(error_of("foo == \"12x") == R"(1:12 (11): rule "string": Unterminated string literal)");
  CHECK(error_of("foo == `12x") == R"(1:12 (11): rule "string": Unterminated string literal)");
  CHECK(error_of("foo == 3x") == R"(1:9 (8): rule "number": Invalid number literal)");
  CHECK(error_of("foo[3] == abc") == R"(1:5 (4): rule "index": Invalid index)");
  CHECK(error_of("x in foo[\"abc\"") == R"(1:15 (14): rule "index": Unclosed index expression)");
  CHECK(error_of("foo[\"abc\" == 3") == R"(1:11 (10): rule "index": Unclosed index expression)");
  CHECK(error_of("x in 32") == R"(1:6 (5): rule "match": Invalid selector)");
  CHECK(error_of("32 == 32") == R"(1:4 (3): no match found, expected: "in", "not" or [ \t\r\n])");
  CHECK(error_of("32 is empty") ==
        R"(1:4 (3): no match found, expected: "in", "not" or [ \t\r\n])");
  CHECK(error_of("x in foo abc") ==
        R"(1:10 (9): no match found, expected: "and", "or", [ \t\r\n] or EOF)");
  CHECK(
      error_of("x in foo and ") ==
      R"(1:14 (13): no match found, expected: "(", "-", "0", "\"", "`", "not", [ \t\r\n], [1-9] or [a-zA-Z])");
  CHECK(
      error_of("x in foo or ") ==
      R"(1:13 (12): no match found, expected: "(", "-", "0", "\"", "`", "not", [ \t\r\n], [1-9] or [a-zA-Z])");
  CHECK(
      error_of("x in foo or not ") ==
      R"(1:17 (16): no match found, expected: "!=", "(", "-", "0", "==", "\"", "`", "contains", "in", "is", "matches", "not", [ \t\r\n], [1-9] or [a-zA-Z])");
  CHECK(error_of("(foo == 4") == R"(1:10 (9): rule "grouping": Unmatched parentheses)");
}

TEST_CASE("more syntax errors") {
  CHECK(
      error_of(R"(Service = "web")") ==
      R"(1:9 (8): no match found, expected: "!=", "==", "contains", "in", "is", "matches", "not" or [ \t\r\n])");
  CHECK(
      error_of("Service ==") ==
      R"(1:11 (10): no match found, expected: "-", "0", "\"", "`", [ \t\r\n], [1-9] or [a-zA-Z])");
  CHECK(error_of("Service.Tags is") == R"(1:16 (15): no match found, expected: [ \t\r\n])");
  CHECK(error_of("a == 1 AND b == 2") ==
        R"(1:8 (7): no match found, expected: "and", "or", [ \t\r\n] or EOF)");
  CHECK(error_of("(a == 1)or(b == 2)") == R"(1:9 (8): no match found, expected: [ \t\r\n] or EOF)");
  // The number rule tried a digit and a decimal point there too.
  CHECK(error_of("a == 1)") ==
        R"(1:7 (6): no match found, expected: ".", [ \t\r\n], [0-9] or EOF)");
  CHECK(error_of("a == b c") ==
        R"(1:8 (7): no match found, expected: "and", "or", [ \t\r\n] or EOF)");
  CHECK(error_of(R"(a == "\q")") == R"(1:6 (5): rule "string": invalid syntax)");
  CHECK(error_of(R"(a == "x\" and b == 2)") == R"(1:6 (5): rule "string": invalid syntax)");
  CHECK(error_of("a == 01") == R"(1:7 (6): rule "number": Invalid number literal)");
  CHECK(error_of("a == \"x\" or b == 3y") == R"(1:19 (18): rule "number": Invalid number literal)");
  CHECK(error_of("a == \"\\q\" or b == 3y") ==
        "1:6 (5): rule \"string\": invalid syntax\n1:20 (19): rule \"number\": Invalid number "
        "literal");
  // Columns count from the newline, which is column 0 of the next line.
  CHECK(error_of("a ==\n  b ==") ==
        R"(2:5 (9): no match found, expected: "and", "or", [ \t\r\n] or EOF)");
  CHECK(error_of("a == \"caf\xC3\xA9\" x") ==
        R"(1:13 (13): no match found, expected: "and", "or", [ \t\r\n] or EOF)");
}

TEST_CASE("regex and limit errors") {
  CHECK(
      error_of(R"(Service matches "(web")") ==
      R"(Failed to compile regular expression "(web": error parsing regexp: missing closing ): `(web`)");
  CHECK(
      error_of(R"(Service matches "\\pX")") ==
      R"(Failed to compile regular expression "\\pX": error parsing regexp: invalid character class range: `\pX`)");
  CHECK(
      error_of(R"(Service matches ".{1000}")") ==
      R"(Failed to compile regular expression ".{1000}": error parsing regexp: expression too large: `.{1000}`)");
  std::string too_long(Expression::kMaxExpressionBytes + 1, ' ');
  CHECK(error_of(too_long) == "filter expression is 4097 bytes long, the limit is 4096");
  CHECK(error_of("a == \"\xff\"") == "1:7 (6): invalid encoding");
}

TEST_CASE("nesting is bounded and hostile input stays cheap") {
  std::string deep;
  for (int i = 0; i < 64; ++i) deep += "(";
  deep += "a == 1";
  for (int i = 0; i < 64; ++i) deep += ")";
  CHECK(eval(deep, json(R"({"a": 1})")));
  std::string deeper = "(" + deep + ")";
  CHECK(error_of(deeper).find("nested too deeply") != std::string::npos);
  std::string nots;
  for (int i = 0; i < 100; ++i) nots += "not ";
  CHECK(error_of(nots + "a == 1").find("nested too deeply") != std::string::npos);

  auto start = std::chrono::steady_clock::now();
  for (const std::string& hostile :
       {std::string(4000, '('), std::string(2000, '(') + std::string(2000, ')'),
        [] {
          std::string s;
          while (s.size() < 4000) s += "(not ";
          return s;
        }(),
        [] {
          std::string s = "a == 1";
          while (s.size() < 4000) s += " and a == 1 or b in c";
          return s;
        }(),
        std::string("\"") + std::string(4000, 'x'), std::string(4000, 'a')}) {
    std::string error;
    Expression::parse(hostile.substr(0, Expression::kMaxExpressionBytes), error);
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));

  std::string long_and = "a == 1";
  while (long_and.size() < 4000) long_and += " and a == 1";
  CHECK(eval(long_and, json(R"({"a": 1})")));
}
