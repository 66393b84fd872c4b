// /v1/health: checks and healthy instances (reference section 4).
#include <algorithm>

#include "agent/agent.h"
#include "agent/http/blocking.h"
#include "agent/http/endpoints.h"
#include "agent/http/read_helpers.h"
#include "agent/http/reply.h"
#include "agent/state/encode.h"

namespace cairn::http_api {

namespace {

using state::Check;
using state::Node;
using state::Service;




void write_checks(ResultWriter& out, const std::vector<const Check*>& checks) {
  out.json().begin_array();
  for (const Check* c : checks) out.element([&](JsonWriter& w) { state::write_check(w, *c); });
  out.json().end_array();
}

// The checks of a health entry: the node's own checks and the instance's, by check ID.
std::vector<const Check*> entry_checks(const state::Store& st, const Service& s) {
  std::vector<const Check*> checks = st.node_checks(s.node);
  for (const Check* c : st.instance_checks(s.node, s.id)) checks.push_back(c);
  std::sort(checks.begin(), checks.end(),
            [](const Check* a, const Check* b) { return a->check_id < b->check_id; });
  return checks;
}

http::Response health_node_read(const state::Store& st, const QueryOptions& o,
                                ResultFilter* filter, const std::string& node, const NearOrder&) {
  std::string body;
  ResultWriter out(body, o.pretty, filter);
  write_checks(out, st.checks_of_node(node));
  return http::Response::json(std::move(body));
}

http::Response health_checks_read(const state::Store& st, const QueryOptions& o,
                                  ResultFilter* filter, const std::string& name,
                                  const NearOrder& near) {
  std::vector<const Check*> checks;
  for (const Check* c : st.checks_of_service(name)) {
    const Node* n = st.node(c->node);
    if (n && node_meta_matches(*n, o)) checks.push_back(c);
  }
  near.sort(checks, [](const Check* c) -> const std::string& { return c->node; });
  std::string body;
  ResultWriter out(body, o.pretty, filter);
  write_checks(out, checks);
  return http::Response::json(std::move(body));
}

http::Response health_service_read(const state::Store& st, const QueryOptions& o,
                                   ResultFilter* filter, const std::string& name,
                                   const NearOrder& near) {
  std::vector<const Service*> instances;
  for (const Service* s : st.service_instances(name)) {
    const Node* n = st.node(s->node);
    if (n && node_meta_matches(*n, o) && has_tags(*s, o.tags)) instances.push_back(s);
  }
  near.sort(instances, [](const Service* s) -> const std::string& { return s->node; });
  std::string body;
  ResultWriter out(body, o.pretty, filter);
  out.json().begin_array();
  for (const Service* s : instances) {
    const Node* n = st.node(s->node);
    std::vector<const Check*> checks = entry_checks(st, *s);
    if (o.passing && std::any_of(checks.begin(), checks.end(), [](const Check* c) {
          return c->status != state::kPassing;
        }))
      continue;
    out.element([&](JsonWriter& w) {
      w.begin_object();
      w.key("Node");
      state::write_node(w, *n);
      w.key("Service");
      state::write_service(w, *s);
      w.key("Checks");
      w.begin_array();
      for (const Check* c : checks) state::write_check(w, *c);
      w.end_array();
      w.end_object();
    });
  }
  out.json().end_array();
  return http::Response::json(std::move(body));
}

// ?passing of /v1/health/service: "" or the 400 body text.
std::string health_service_passing(const http::Request& req, QueryOptions& o) {
  const std::string* p = req.param("passing");
  return p && !parse_bool_param(*p, o.passing) ? "Invalid value for ?passing" : "";
}

void health_state(Agent& agent, const ExchangePtr& ex, const std::string& want) {
  if (want != "any" && !state::is_valid_status(want)) {
    respond_error(ex, 400, "Invalid check state");
    return;
  }
  QueryOptions o;
  std::shared_ptr<ResultFilter> filter;
  if (!read_options(ex, agent, o, filter)) return;
  serve_read(agent, ex, o, [&agent, o, filter, want] {
    const state::Store& st = agent.store();
    ReadResult res;
    res.index = st.table_index({state::kChecksTable});
    res.watch = {std::string(state::kChecksTable)};
    std::vector<const Check*> checks;
    for (const auto& [_, c] : st.checks()) {
      if (want != "any" && c.status != want) continue;
      const Node* n = st.node(c.node);
      if (n && node_meta_matches(*n, o)) checks.push_back(&c);
    }
    NearOrder(agent, o.near).sort(checks, [](const Check* c) -> const std::string& {
      return c->node;
    });
    std::string body;
    ResultWriter out(body, o.pretty, filter.get());
    write_checks(out, checks);
    res.response = http::Response::json(std::move(body));
    return res;
  });
}

}  // namespace

void add_health_routes(Router& r, Agent& agent) {
  add_scoped_read(r, "/v1/health/node/", agent, ReadScope::node, health_node_read);
  add_scoped_read(r, "/v1/health/checks/", agent, ReadScope::service, health_checks_read);
  add_scoped_read(r, "/v1/health/service/", agent, ReadScope::service, health_service_read,
                  health_service_passing);
  r.add("GET", "/v1/health/state/", bind_endpoint(agent, health_state));
}

}  // namespace cairn::http_api
