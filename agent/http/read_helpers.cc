#include "agent/http/read_helpers.h"

#include "agent/http/endpoints.h"
#include "agent/http/reply.h"
#include "agent/state/store.h"

namespace cairn::http_api {

bool node_meta_matches(const state::Node& n, const QueryOptions& o) {
  for (const auto& [k, v] : o.node_meta) {
    auto it = n.meta.find(k);
    if (it == n.meta.end() || it->second != v) return false;
  }
  return true;
}

bool has_tags(const state::Service& s, const std::vector<std::string>& tags) {
  for (const auto& want : tags) {
    std::string lc_want = state::lower(want);
    bool found = false;
    for (const auto& t : s.tags)
      if (state::lower(t) == lc_want) found = true;
    if (!found) return false;
  }
  return true;
}

bool read_options(const ExchangePtr& ex, const Agent& agent, QueryOptions& o,
                  std::shared_ptr<ResultFilter>& filter) {
  std::unique_ptr<ResultFilter> f;
  std::string err = parse_query_options(ex->request, o);
  if (err.empty()) err = ResultFilter::compile(o.filter, f);
  if (!err.empty()) {
    respond_error(ex, 400, err);
    return false;
  }
  filter = std::move(f);
  return check_datacenter(ex, agent, o.datacenter);
}

}  // namespace cairn::http_api
