// Consul's `?filter=` expressions (HashiCorp go-bexpr, as Consul uses it), e.g.
//   Service.Tags contains "primary" and not (Meta.env == "qa" or Checks.Status != passing)
// parsed once per request and evaluated against each element of the result in its JSON form,
// so the HTTP layer can filter any listing without per-endpoint field tables.
//
// Input is bounded (kMaxExpressionBytes, nesting depth, regex size); parse and evaluation never
// throw and take time linear in the input. Deliberate differences from Consul are listed in
// docs/compatibility.md ("Filtering").
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/value.h"

namespace cairn::filter {

struct Node;

class Expression {
 public:
  // Longer filters are refused; Consul has no limit, but no real filter comes close.
  static constexpr size_t kMaxExpressionBytes = 4096;

  // Parses Consul's filter syntax. On error returns nullptr and sets error to Consul's message
  // (the HTTP layer returns it as a 400 body), e.g. "Failed to create boolean expression
  // evaluator: 1:8 (7): no match found, expected: ...". An empty text is no filter at all and
  // yields an expression that matches everything, as in Consul.
  static std::unique_ptr<Expression> parse(std::string_view text, std::string& error);

  // Evaluates against one result element: the JSON object the API would return for it, with
  // Consul's field names (Service, Tags, Meta, Checks, ...), parsed with parse_json.
  bool matches(const cairn::Value& item) const;

  ~Expression();
  Expression(const Expression&) = delete;
  Expression& operator=(const Expression&) = delete;

 private:
  explicit Expression(std::unique_ptr<Node> root);
  std::unique_ptr<Node> root_;  // null for the empty expression
};

}  // namespace cairn::filter
