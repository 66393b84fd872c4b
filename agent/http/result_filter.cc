#include "agent/http/result_filter.h"

#include "agent/filter/filter.h"
#include "common/value.h"

namespace cairn::http_api {

struct ResultFilter::Impl {
  std::unique_ptr<filter::Expression> expr;
  mutable Value scratch;
};

ResultFilter::~ResultFilter() = default;

std::string ResultFilter::compile(const std::string& text, std::unique_ptr<ResultFilter>& out) {
  out.reset();
  if (text.empty()) return "";
  std::string err;
  auto expr = filter::Expression::parse(text, err);
  if (!expr) return err;
  out.reset(new ResultFilter);
  out->impl_ = std::make_unique<Impl>();
  out->impl_->expr = std::move(expr);
  return "";
}

bool ResultFilter::matches(std::string_view element_json) const {
  ParseError err;
  if (!parse_json(element_json, impl_->scratch, err)) return false;
  return impl_->expr->matches(impl_->scratch);
}

}  // namespace cairn::http_api
