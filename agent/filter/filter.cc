#include "agent/filter/filter.h"

#include <exception>

#include "agent/filter/ast.h"
#include "agent/filter/evaluate.h"
#include "agent/filter/go_strconv.h"
#include "agent/filter/parser.h"

namespace cairn::filter {

namespace {

// go-bexpr's CreateFilter wraps every parse and validation error in this.
constexpr std::string_view kErrorPrefix = "Failed to create boolean expression evaluator: ";

bool prepare(Node& node, std::string& error) {
  if (node.kind == Node::Kind::match) return prepare_match(node.match, error);
  for (Node& operand : node.operands)
    if (!prepare(operand, error)) return false;
  return true;
}

}  // namespace

Expression::Expression(std::unique_ptr<Node> root) : root_(std::move(root)) {}
Expression::~Expression() = default;

std::unique_ptr<Expression> Expression::parse(std::string_view text, std::string& error) {
  try {
    if (text.empty()) return std::unique_ptr<Expression>(new Expression(nullptr));
    std::string why;
    if (text.size() > kMaxExpressionBytes) {
      why = "filter expression is " + std::to_string(text.size()) + " bytes long, the limit is " +
            std::to_string(kMaxExpressionBytes);
    } else if (size_t bad = first_invalid_utf8(text); bad != std::string_view::npos) {
      why = pigeon_position(text, bad) + ": invalid encoding";
    } else if (auto root = parse_syntax(text, why)) {
      auto node = std::make_unique<Node>(std::move(*root));
      if (prepare(*node, why)) return std::unique_ptr<Expression>(new Expression(std::move(node)));
    }
    error = std::string(kErrorPrefix) + why;
  } catch (const std::exception& e) {  // only allocation failure is expected here
    error = std::string(kErrorPrefix) + e.what();
  }
  return nullptr;
}

bool Expression::matches(const cairn::Value& item) const {
  return !root_ || evaluate(*root_, item);
}

}  // namespace cairn::filter
