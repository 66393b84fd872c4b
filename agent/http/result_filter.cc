#include "agent/http/result_filter.h"

namespace cairn::http_api {

struct ResultFilter::Impl {};

ResultFilter::~ResultFilter() = default;

std::string ResultFilter::compile(const std::string& text, std::unique_ptr<ResultFilter>& out) {
  out.reset();
  if (text.empty()) return "";
  return "Failed to create boolean expression evaluator: filtering is not available in this build";
}

bool ResultFilter::matches(std::string_view) const { return true; }

}  // namespace cairn::http_api
