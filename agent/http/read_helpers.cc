#include "agent/http/read_helpers.h"

#include "agent/agent.h"
#include "agent/http/blocking.h"
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

bool read_options(const ExchangePtr& ex, const Agent&, QueryOptions& o,
                  std::shared_ptr<ResultFilter>& filter) {
  std::unique_ptr<ResultFilter> f;
  std::string err = parse_query_options(ex->request, o);
  if (err.empty()) err = ResultFilter::compile(o.filter, f);
  if (!err.empty()) {
    respond_error(ex, 400, err);
    return false;
  }
  filter = std::move(f);
  return true;
}

void add_scoped_read(Router& r, const std::string& prefix, Agent& agent, ReadScope scope,
                     ScopedRead read, ExtraParams extra) {
  r.add("GET", prefix, [&agent, scope, read, extra](const ExchangePtr& ex, const std::string& name) {
    if (name.empty()) {
      respond_error(ex, 400,
                    scope == ReadScope::service ? "Missing service name" : "Missing node name");
      return;
    }
    QueryOptions o;
    std::shared_ptr<ResultFilter> filter;
    if (!read_options(ex, agent, o, filter)) return;
    if (extra) {
      if (std::string err = extra(ex->request, o); !err.empty()) {
        respond_error(ex, 400, err);
        return;
      }
    }
    serve_read(agent, ex, o, [&agent, scope, read, o, filter, name] {
      const state::Store& st = agent.store();
      ReadResult res;
      if (scope == ReadScope::service) {
        res.index = st.service_result_index(name);
        res.watch = {state::service_key(name)};
      } else {
        res.index = st.node_result_index(name);
        res.watch = {state::node_key(name)};
      }
      res.response = read(st, o, filter.get(), name, NearOrder(agent, o.near));
      return res;
    });
  });
}

}  // namespace cairn::http_api
