// /v1/catalog: the registry of nodes and services (reference section 3).
#include <algorithm>
#include <cstdint>

#include "agent/agent.h"
#include "agent/config/service_definition.h"
#include "agent/http/blocking.h"
#include "agent/http/decode_body.h"
#include "agent/http/endpoints.h"
#include "agent/http/read_helpers.h"
#include "agent/http/reply.h"
#include "agent/membership.h"
#include "agent/state/catalog_ops.h"
#include "agent/state/encode.h"
#include "common/decode.h"

namespace cairn::http_api {

namespace {

using state::Node;
using state::Service;




// Consul's catalog keeps a service's weights only when ValidateWeights accepts
// them, and otherwise its defaults, Passing 1 and Warning 1
// (NodeService.ToServiceNode): the Go client sends {"Passing": 0, "Warning": 0}
// with every catalog registration of a service, which must not be refused.
state::Weights decode_catalog_weights(Decoder& d, const Value& v) {
  if (v.is_null()) return {};
  state::Weights w{0, 0};  // a missing field is Go's zero value
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "passing") w.passing = static_cast<int>(d.integer(f, INT32_MIN, INT32_MAX));
    else if (k == "warning") w.warning = static_cast<int>(d.integer(f, INT32_MIN, INT32_MAX));
    return true;
  });
  return config::validate_weights(w).empty() ? w : state::Weights{};
}

state::Service decode_catalog_service(Decoder& d, const Value& v) {
  state::Service s;
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "id") s.id = d.str(f);
    else if (k == "service") s.name = d.str(f);
    else if (k == "kind") s.kind = d.str(f);
    else if (k == "tags") s.tags = d.strings(f);
    else if (k == "address") s.address = d.str(f);
    else if (k == "meta") s.meta = d.string_map(f);
    else if (k == "port") s.port = static_cast<int>(d.integer(f, 0, 65535));
    else if (k == "enabletagoverride") s.enable_tag_override = d.boolean(f);
    else if (k == "socketpath") s.socket_path = d.str(f);
    else if (k == "locality") s.locality = config::decode_locality(d, f);
    else if (k == "weights") s.weights = decode_catalog_weights(d, f);
    else if (k == "taggedaddresses") {
      if (f.is_object())
        for (const auto& [tk, tv] : f.fields) {
          Decoder::Scope sc(d, tk);
          state::ServiceAddress a;
          d.object(tv, [&](std::string_view ak, const Value& av) {
            if (ak == "address") a.address = d.str(av);
            else if (ak == "port") a.port = static_cast<int>(d.integer(av, 0, 65535));
            return true;
          });
          s.tagged_addresses[tk] = a;
        }
    }
    return true;  // unknown fields are ignored, as Go's decoder does
  });
  return s;
}


state::LimitCheck register_request_limits(const state::RegisterRequest& req) {
  if (auto e = state::check_identifier("Node", req.node)) return e;
  if (auto e = state::check_identifier("ID", req.id)) return e;
  if (auto e = state::check_identifier("Address", req.address)) return e;
  if (auto e = state::check_meta("NodeMeta", req.node_meta)) return e;
  if (req.tagged_addresses.size() > state::kMaxTaggedAddresses)
    return state::LimitError{
        "tagged_addresses",
        "TaggedAddresses: " + std::to_string(req.tagged_addresses.size()) +
            " addresses are too many, max: " + std::to_string(state::kMaxTaggedAddresses)};
  if (req.service)
    if (auto e = state::check_service(*req.service))
      return state::LimitError{e->limit, "Service." + e->message};
  if (auto e = state::check_check_count(req.checks.size())) return e;
  for (size_t i = 0; i < req.checks.size(); ++i)
    if (auto e = state::check_check("Checks[" + std::to_string(i) + "].", req.checks[i])) return e;
  return std::nullopt;
}

// The body of PUT /v1/catalog/register.
void decode_register_request(Decoder& d, const Value& body, state::RegisterRequest& req) {
  d.object(body, [&](std::string_view k, const Value& f) {
    if (k == "id") req.id = d.str(f);
    else if (k == "node") req.node = d.str(f);
    else if (k == "address") req.address = d.str(f);
    else if (k == "datacenter") req.datacenter = d.str(f);
    else if (k == "taggedaddresses") req.tagged_addresses = d.string_map(f);
    else if (k == "nodemeta") req.node_meta = d.string_map(f);
    else if (k == "service") {
      if (!f.is_null()) req.service = decode_catalog_service(d, f);
    } else if (k == "check") {
      if (!f.is_null()) req.checks.push_back(decode_catalog_check(d, f));
    } else if (k == "checks") {
      d.array(f, [&](const Value& item) { req.checks.push_back(decode_catalog_check(d, item)); });
    } else if (k == "skipnodeupdate") req.skip_node_update = d.boolean(f);
    return true;
  });
}

void catalog_register(Agent& agent, const ExchangePtr& ex, const std::string&) {
  state::RegisterRequest req;
  if (!decode_json_body(
          ex, [&req](Decoder& d, const Value& body) { decode_register_request(d, body, req); }))
    return;
  if (auto e = register_request_limits(req)) {
    respond_limit_error(ex, agent, *e);
    return;
  }
  if (!req.datacenter.empty() && req.datacenter != agent.config().datacenter) {
    respond_error(ex, 500, "No path to datacenter");
    return;
  }
  if (req.datacenter.empty()) req.datacenter = agent.config().datacenter;
  for (const auto& [k, v] : req.node_meta) {
    (void)v;
    if (k.rfind("consul-", 0) == 0 && k != "consul-network-segment") {
      respond_error(ex, 400, "NodeMeta: key \"" + k + "\" uses the reserved consul- prefix");
      return;
    }
  }
  // Consul reports registration validation errors as 500s from its RPC layer.
  agent.writer().write(
      [req](const state::Store& store, int64_t, state::Batch& out) {
        return state::plan_register(store, req, out);
      },
      respond_written_true(ex));
}

void catalog_deregister(Agent& agent, const ExchangePtr& ex, const std::string&) {
  state::DeregisterRequest req;
  std::string dc;
  if (!decode_json_body(ex, [&](Decoder& d, const Value& body) {
        d.object(body, [&](std::string_view k, const Value& f) {
          if (k == "node") req.node = d.str(f);
          else if (k == "serviceid") req.service_id = d.str(f);
          else if (k == "checkid") req.check_id = d.str(f);
          else if (k == "datacenter") dc = d.str(f);
          return true;
        });
      }))
    return;
  if (!check_datacenter(ex, agent, dc)) return;
  agent.writer().write(
      [req](const state::Store& store, int64_t, state::Batch& out) {
        return state::plan_deregister(store, req, out);
      },
      respond_written_true(ex));
}

void catalog_datacenters(Agent& agent, const ExchangePtr& ex, const std::string&) {
  std::string body;
  JsonWriter w(body, ex->request.has_param("pretty"));
  w.begin_array();
  for (const auto& dc : agent.membership().datacenters()) w.string(dc);
  w.end_array();
  respond_json(ex, std::move(body));
}

void catalog_nodes(Agent& agent, const ExchangePtr& ex, const std::string&) {
  QueryOptions o;
  std::shared_ptr<ResultFilter> filter;
  if (!read_options(ex, agent, o, filter)) return;
  serve_read(agent, ex, o, [&agent, o, filter] {
    const state::Store& st = agent.store();
    ReadResult res;
    res.index = st.table_index({state::kNodesTable});
    res.watch = {std::string(state::kNodesTable)};
    std::string body;
    ResultWriter out(body, o.pretty, filter.get());
    std::vector<const Node*> nodes;
    for (const auto& entry : st.nodes())
      if (node_meta_matches(entry.second, o)) nodes.push_back(&entry.second);
    NearOrder(agent, o.near).sort(nodes, [](const Node* n) -> const std::string& {
      return n->name;
    });
    out.json().begin_array();
    for (const Node* n : nodes) out.element([&](JsonWriter& w) { state::write_node(w, *n); });
    out.json().end_array();
    res.response = http::Response::json(std::move(body));
    return res;
  });
}

void catalog_services(Agent& agent, const ExchangePtr& ex, const std::string&) {
  QueryOptions o;
  std::shared_ptr<ResultFilter> filter;
  if (!read_options(ex, agent, o, filter)) return;
  serve_read(agent, ex, o, [&agent, o, filter] {
    const state::Store& st = agent.store();
    ReadResult res;
    res.index = st.table_index({state::kServicesTable});
    res.watch = {std::string(state::kServicesTable)};
    if (!o.node_meta.empty()) res.watch.emplace_back(state::kNodesTable);
    std::string body;
    JsonWriter w(body, o.pretty);
    std::string scratch;
    w.begin_object();
    std::vector<std::string> tags;
    for (const auto& [lc_name, instances] : st.services_by_name()) {
      tags.clear();
      const Service* first = nullptr;
      for (const auto& key : instances) {
        const Service* s = st.instance(key);
        const Node* n = s ? st.node(s->node) : nullptr;
        if (!s || !n || !node_meta_matches(*n, o)) continue;
        if (filter) {
          scratch.clear();
          JsonWriter sw(scratch);
          state::write_service_node(sw, *n, *s);
          if (!filter->matches(scratch)) continue;
        }
        if (!first) first = s;
        for (const auto& t : s->tags)
          if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(t);
      }
      if (first) w.string_array(first->name, tags);
    }
    w.end_object();
    res.response = http::Response::json(std::move(body));
    return res;
  });
}

http::Response catalog_service_read(const state::Store& st, const QueryOptions& o,
                                    ResultFilter* filter, const std::string& name,
                                    const NearOrder& near) {
  std::vector<std::pair<const Node*, const Service*>> found;
  for (const Service* s : st.service_instances(name)) {
    const Node* n = st.node(s->node);
    if (n && node_meta_matches(*n, o) && has_tags(*s, o.tags)) found.emplace_back(n, s);
  }
  near.sort(found, [](const auto& f) -> const std::string& { return f.first->name; });
  std::string body;
  ResultWriter out(body, o.pretty, filter);
  out.json().begin_array();
  for (const auto& f : found)
    out.element([&](JsonWriter& w) { state::write_service_node(w, *f.first, *f.second); });
  out.json().end_array();
  return http::Response::json(std::move(body));
}

http::Response catalog_node_read(const state::Store& st, const QueryOptions& o,
                                 ResultFilter* filter, const std::string& node,
                                 const NearOrder&) {
  std::string body;
  const Node* n = st.node(node);
  if (!n) {
    body = "null";
  } else {
    ResultWriter out(body, o.pretty, filter);
    out.json().begin_object();
    out.json().key("Node");
    state::write_node(out.json(), *n);
    out.json().key("Services");
    out.json().begin_object();
    for (const Service* s : st.services_of_node(node))
      out.entry(s->id, [&](JsonWriter& w) { state::write_service(w, *s); });
    out.json().end_object();
    out.json().end_object();
  }
  return http::Response::json(std::move(body));
}

http::Response catalog_node_services_read(const state::Store& st, const QueryOptions& o,
                                          ResultFilter* filter, const std::string& node,
                                          const NearOrder&) {
  const Node* n = st.node(node);
  if (!n) {
    return http::Response::text(404, "Node not found");
  }
  std::string body;
  ResultWriter out(body, o.pretty, filter);
  out.json().begin_object();
  out.json().key("Node");
  state::write_node(out.json(), *n);
  out.json().key("Services");
  out.json().begin_array();
  for (const Service* s : st.services_of_node(node))
    out.element([&](JsonWriter& w) { state::write_service(w, *s); });
  out.json().end_array();
  out.json().end_object();
  return http::Response::json(std::move(body));
}

}  // namespace

void add_catalog_routes(Router& r, Agent& agent) {
  r.add("PUT", "/v1/catalog/register", bind_endpoint(agent, catalog_register));
  r.add("PUT", "/v1/catalog/deregister", bind_endpoint(agent, catalog_deregister));
  r.add("GET", "/v1/catalog/datacenters", bind_endpoint(agent, catalog_datacenters));
  r.add("GET", "/v1/catalog/nodes", bind_endpoint(agent, catalog_nodes));
  r.add("GET", "/v1/catalog/services", bind_endpoint(agent, catalog_services));
  add_scoped_read(r, "/v1/catalog/service/", agent, ReadScope::service, catalog_service_read);
  add_scoped_read(r, "/v1/catalog/node/", agent, ReadScope::node, catalog_node_read);
  add_scoped_read(r, "/v1/catalog/node-services/", agent, ReadScope::node,
                  catalog_node_services_read);
}

// A check in a catalog registration (or a txn Check operation): its
// definition as a HealthCheckDefinition, and the catalog row's own fields.
state::Check decode_catalog_check(Decoder& d, const Value& v) {
  state::Check c;
  c.status.clear();
  config::CheckSpec spec = config::decode_check(d, v);
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "checkid") c.check_id = d.str(f);
    else if (k == "output") c.output = d.str(f);
    else if (k == "type") c.type = d.str(f);
    return true;
  });
  if (c.check_id.empty()) c.check_id = spec.id;
  c.name = spec.name;
  c.notes = spec.notes;
  c.status = spec.status;
  c.service_id = spec.service_id;
  c.definition = spec.def;
  if (c.type.empty()) c.type = spec.type();
  return c;
}

}  // namespace cairn::http_api
