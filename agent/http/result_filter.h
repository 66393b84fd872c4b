// `?filter=` on list endpoints: each element is rendered as the JSON the
// client would receive and kept only if the expression matches it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace cairn::http_api {

class ResultFilter {
 public:
  ~ResultFilter();
  // Compiles an expression; returns "" or the 400 body text.
  static std::string compile(const std::string& text, std::unique_ptr<ResultFilter>& out);
  bool matches(std::string_view element_json) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::http_api
