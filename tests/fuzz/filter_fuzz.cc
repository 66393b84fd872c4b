// Fuzzes ?filter= expressions: any bytes are parsed, and an expression that parses is evaluated
// against fixed result documents. Besides crashes, hangs and leaks, it checks that a refused
// expression says why, and that "not (X)" parses like X and matches exactly what X does not.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "agent/filter/filter.h"

namespace {

// A /v1/health/service entry and a /v1/agent/services entry, with every JSON type, nested
// lists, maps, nulls and non-ASCII text for selectors to reach, and long hex IDs on which a
// backtracking regex engine would explode (`matches` must stay linear).
constexpr const char* kDocuments[] = {
    R"({"Node": {"ID": "0123456789abcdef0123456789abcdef", "Node": "node-1",
                 "Address": "10.0.0.1", "Datacenter": "dc1",
                 "TaggedAddresses": {"lan": "10.0.0.1", "wan": "1.2.3.4"},
                 "Meta": {"env": "prod", "a.b": "dotted", "empty": "",
                          "machine": "0123456789abcdef0123456789abcdef"}},
        "Service": {"ID": "web-1", "Service": "web", "Tags": ["primary", "v1", ""],
                    "Address": "", "Meta": null, "Port": 8080, "EnableTagOverride": false,
                    "Weights": {"Passing": 10, "Warning": 1}, "Proxy": {}},
        "Checks": [{"CheckID": "serfHealth", "Status": "passing", "Output": "Agent alive"},
                   {"CheckID": "service:web-1", "Status": "critical",
                    "ServiceTags": ["primary"], "Output": "caf\u00e9 \u2603\nline 2"}]})",
    R"({"ID": "redis1", "Service": "redis", "Tags": [], "Meta": {}, "Port": 0,
        "Flags": 18446744073709551615, "Ratio": -0.5, "On": true, "Nothing": null,
        "Lists": [[1, "1", true, null, [], {}], [{"X": "deep"}]]})",
};

const std::vector<cairn::Value>& documents() {
  static const std::vector<cairn::Value> docs = [] {
    std::vector<cairn::Value> out;
    for (const char* text : kDocuments) {
      cairn::Value v;
      cairn::ParseError err;
      if (!cairn::parse_json(text, v, err)) abort();
      out.push_back(std::move(v));
    }
    return out;
  }();
  return docs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using cairn::filter::Expression;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto expression = Expression::parse(text, error);
  if (!expression) {
    if (error.empty()) abort();
    return 0;
  }
  if (text.empty()) return 0;  // matches everything; "not ()" is not an expression
  std::string negated_text = "not (" + std::string(text) + ")";
  auto negated = Expression::parse(negated_text, error);  // may hit the size or depth limit
  for (const cairn::Value& doc : documents()) {
    bool matched = expression->matches(doc);
    if (negated && negated->matches(doc) == matched) abort();
  }
  return 0;
}
