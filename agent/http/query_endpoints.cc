// /v1/query: prepared queries (reference section 9). Definitions are stored
// in the state store through the catalog writer; execution shares
// state::execute_query with the DNS interface.
#include <algorithm>

#include "agent/agent.h"
#include "agent/forward/query_failover.h"
#include "agent/http/agent_cache.h"
#include "agent/http/blocking.h"
#include "agent/http/decode_body.h"
#include "agent/http/endpoints.h"
#include "agent/http/near_order.h"
#include "agent/http/reply.h"
#include "agent/state/encode.h"
#include "agent/state/prepared_query_ops.h"
#include "common/decode.h"
#include "common/random.h"

namespace cairn::http_api {

namespace {

using state::PreparedQuery;

// Re-encodes a parsed JSON value (the opaque Failover.Targets list).
void write_value(JsonWriter& w, const Value& v) {
  switch (v.kind) {
    case Value::Kind::null:
      w.null();
      break;
    case Value::Kind::boolean:
      w.boolean(v.b);
      break;
    case Value::Kind::integer:
      w.number(v.i);
      break;
    case Value::Kind::uinteger:
      w.number(v.u);
      break;
    case Value::Kind::number:
      w.number(v.d);
      break;
    case Value::Kind::string:
    case Value::Kind::scalar:
      w.string(v.s);
      break;
    case Value::Kind::array:
      w.begin_array();
      for (const auto& item : v.items) write_value(w, item);
      w.end_array();
      break;
    case Value::Kind::object:
      w.begin_object();
      for (const auto& [k, f] : v.fields) {
        w.key(k);
        write_value(w, f);
      }
      w.end_object();
      break;
  }
}

PreparedQuery decode_query(Decoder& d, const Value& body) {
  PreparedQuery q;
  d.object(body, [&](std::string_view k, const Value& f) {
    if (f.is_null()) return true;
    if (k == "id")
      q.id = d.str(f);
    else if (k == "name")
      q.name = d.str(f);
    else if (k == "session")
      q.session = d.str(f);
    else if (k == "token")
      q.token = d.str(f);
    else if (k == "template") {
      Decoder::Scope s(d, "Template");
      d.object(f, [&](std::string_view tk, const Value& tv) {
        if (tk == "type")
          q.tmpl.type = d.str(tv);
        else if (tk == "regexp")
          q.tmpl.regexp = d.str(tv);
        else if (tk == "removeemptytags")
          q.tmpl.remove_empty_tags = d.boolean(tv);
        return true;
      });
    } else if (k == "dns") {
      Decoder::Scope s(d, "DNS");
      d.object(f, [&](std::string_view dk, const Value& dv) {
        if (dk == "ttl") q.dns_ttl = d.str(dv);
        return true;
      });
    } else if (k == "service") {
      Decoder::Scope s(d, "Service");
      state::ServiceQuery& sq = q.service;
      d.object(f, [&](std::string_view sk, const Value& sv) {
        if (sv.is_null()) return true;
        if (sk == "service")
          sq.service = d.str(sv);
        else if (sk == "onlypassing")
          sq.only_passing = d.boolean(sv);
        else if (sk == "ignorecheckids")
          sq.ignore_check_ids = d.strings(sv);
        else if (sk == "near")
          sq.near = d.str(sv);
        else if (sk == "tags")
          sq.tags = d.strings(sv);
        else if (sk == "nodemeta")
          sq.node_meta = d.string_map(sv);
        else if (sk == "servicemeta")
          sq.service_meta = d.string_map(sv);
        else if (sk == "peer")
          sq.peer = d.str(sv);
        else if (sk == "connect")
          sq.connect = d.boolean(sv);
        else if (sk == "failover") {
          Decoder::Scope fs(d, "Failover");
          d.object(sv, [&](std::string_view fk, const Value& fv) {
            if (fv.is_null()) return true;
            if (fk == "nearestn")
              sq.failover.nearest_n = static_cast<int>(d.integer(fv, INT32_MIN, INT32_MAX));
            else if (fk == "datacenters")
              sq.failover.datacenters = d.strings(fv);
            else if (fk == "targets") {
              if (!fv.is_array()) d.fail(fv, "expected an array");
              JsonWriter w(sq.failover.targets_json);
              write_value(w, fv);
            }
            return true;
          });
        }
        return true;
      });
    }
    return true;  // unknown fields are ignored, as Go's decoder does
  });
  return q;
}

void write_string_map(JsonWriter& w, std::string_view key,
                      const std::map<std::string, std::string>& m) {
  w.key(key);
  w.begin_object();
  for (const auto& [k, v] : m) w.field(k, v);
  w.end_object();
}

void write_query(JsonWriter& w, const PreparedQuery& q) {
  w.begin_object();
  w.field("ID", q.id);
  w.field("Name", q.name);
  w.field("Session", q.session);
  w.field("Token", q.token);
  w.key("Template");
  w.begin_object();
  w.field("Type", q.tmpl.type);
  w.field("Regexp", q.tmpl.regexp);
  w.field("RemoveEmptyTags", q.tmpl.remove_empty_tags);
  w.end_object();
  w.key("Service");
  w.begin_object();
  w.field("Service", q.service.service);
  w.key("Failover");
  w.begin_object();
  w.field("NearestN", q.service.failover.nearest_n);
  w.string_array("Datacenters", q.service.failover.datacenters);
  if (!q.service.failover.targets_json.empty()) {
    w.key("Targets");
    w.raw(q.service.failover.targets_json);
  }
  w.end_object();
  w.field("OnlyPassing", q.service.only_passing);
  w.string_array("IgnoreCheckIDs", q.service.ignore_check_ids);
  w.field("Near", q.service.near);
  w.string_array("Tags", q.service.tags);
  write_string_map(w, "NodeMeta", q.service.node_meta);
  write_string_map(w, "ServiceMeta", q.service.service_meta);
  w.field("Peer", q.service.peer);
  w.field("Connect", q.service.connect);
  w.end_object();
  w.key("DNS");
  w.begin_object();
  w.field("TTL", q.dns_ttl);
  w.end_object();
  w.field("CreateIndex", q.raft.create_index);
  w.field("ModifyIndex", q.raft.modify_index);
  w.end_object();
}

// Headers Consul sets on non-blocking query reads (execute, explain).
void respond_query_meta(const ExchangePtr& ex, std::string body) {
  http::Response r = http::Response::json(std::move(body));
  r.set_header("X-Consul-Index", "1");
  r.set_header("X-Consul-Knownleader", "true");
  r.set_header("X-Consul-Lastcontact", "0");
  add_agent_cache_headers(ex->request, r);
  respond(ex, std::move(r));
}

// Decodes the body; answers 400 itself on failure.
bool read_query_body(const ExchangePtr& ex, PreparedQuery& q) {
  return decode_json_body(ex, [&q](Decoder& d, const Value& body) { q = decode_query(d, body); });
}

void create_query(Agent& agent, const ExchangePtr& ex) {
  PreparedQuery q;
  if (!read_query_body(ex, q)) return;
  if (!q.id.empty()) {
    respond_error(ex, 500, "ID must be empty when creating a new prepared query");
    return;
  }
  // IDs are made here, not in the plan: a plan may run more than once.
  do q.id = random_uuid();
  while (agent.store().prepared_query(q.id));
  agent.writer().write(
      [q](const state::Store& store, int64_t, state::Batch& out) {
        return state::plan_query_set(store, q, true, out);
      },
      respond_written(ex, [ex, id = q.id] {
        std::string body;
        JsonWriter w(body, ex->request.has_param("pretty"));
        w.begin_object();
        w.field("ID", id);
        w.end_object();
        respond_json(ex, std::move(body));
      }));
}

void list_queries(Agent& agent, const ExchangePtr& ex) {
  QueryOptions o;
  if (std::string err = parse_query_options(ex->request, o); !err.empty()) {
    respond_error(ex, 400, err);
    return;
  }
  serve_read(agent, ex, o, [&agent, o] {
    const state::Store& st = agent.store();
    ReadResult res;
    res.index = st.table_index({state::kQueriesTable});
    res.watch = {std::string(state::kQueriesTable)};
    std::string body;
    JsonWriter w(body, o.pretty);
    w.begin_array();
    for (const auto& [_, q] : st.prepared_queries()) write_query(w, q);
    w.end_array();
    res.response = http::Response::json(std::move(body));
    return res;
  });
}

void get_query(Agent& agent, const ExchangePtr& ex, const std::string& id) {
  QueryOptions o;
  if (std::string err = parse_query_options(ex->request, o); !err.empty()) {
    respond_error(ex, 400, err);
    return;
  }
  serve_read(agent, ex, o, [&agent, o, id] {
    const state::Store& st = agent.store();
    ReadResult res;
    res.index = st.table_index({state::kQueriesTable});
    res.watch = {std::string(state::kQueriesTable)};
    const PreparedQuery* q = st.prepared_query(id);
    if (!q) {
      res.response = http::Response::text(404, "Query not found");
      return res;
    }
    std::string body;
    JsonWriter w(body, o.pretty);
    w.begin_array();
    write_query(w, *q);
    w.end_array();
    res.response = http::Response::json(std::move(body));
    return res;
  });
}

void update_query(Agent& agent, const ExchangePtr& ex, const std::string& id) {
  PreparedQuery q;
  if (!read_query_body(ex, q)) return;
  q.id = id;  // the path names the query, whatever the body says
  agent.writer().write(
      [q](const state::Store& store, int64_t, state::Batch& out) {
        return state::plan_query_set(store, q, false, out);
      },
      respond_written_empty(ex));
}

void delete_query(Agent& agent, const ExchangePtr& ex, const std::string& id) {
  agent.writer().write(
      [id](const state::Store& store, int64_t, state::Batch& out) {
        return state::plan_query_delete(store, id, out);
      },
      respond_written_empty(ex));
}

// Resolves :id_or_name; answers 404/500 itself when there is nothing to run.
bool resolve(Agent& agent, const ExchangePtr& ex, const std::string& id_or_name,
             PreparedQuery& out) {
  std::string err;
  auto q = state::resolve_query(agent.store(), id_or_name, &err);
  if (!q) {
    if (!err.empty())
      respond_error(ex, 500, err);
    else
      respond_error(ex, 404, "Query not found");
    return false;
  }
  out = std::move(*q);
  return true;
}

void shuffle(std::vector<state::QueryResultNode>& nodes) {
  for (size_t i = nodes.size(); i > 1; --i) std::swap(nodes[i - 1], nodes[random_below(i)]);
}

// An execution's answer: the instances found in datacenter after failovers tries elsewhere.
void respond_execution(const ExchangePtr& ex, const PreparedQuery& q,
                       const std::vector<state::QueryResultNode>& nodes,
                       const std::string& datacenter, int failovers) {
  std::string body;
  JsonWriter w(body, ex->request.has_param("pretty"));
  w.begin_object();
  w.field("Service", q.service.service);
  w.key("Nodes");
  w.begin_array();
  for (const auto& r : nodes) {
    w.begin_object();
    w.key("Node");
    state::write_node(w, *r.node);
    w.key("Service");
    state::write_service(w, *r.service);
    w.key("Checks");
    w.begin_array();
    for (const state::Check* c : r.checks) state::write_check(w, *c);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("DNS");
  w.begin_object();
  w.field("TTL", q.dns_ttl);
  w.end_object();
  w.field("Datacenter", datacenter);
  w.field("Failovers", failovers);
  w.end_object();
  respond_query_meta(ex, std::move(body));
}

// The failover's answer, from the rows of the datacenter that had instances
// (the same query run over them selects them again).
void answer_failed_over(Agent& agent, const ExchangePtr& ex, const PreparedQuery& q,
                        forward::FailoverResult result) {
  if (ex->closed()) return;
  state::Store rows;
  rows.apply(result.rows.rows, 1);
  std::vector<state::QueryResultNode> nodes = state::execute_query(rows, q.service);
  shuffle(nodes);
  const std::string& dc =
      result.rows.datacenter.empty() ? agent.config().datacenter : result.rows.datacenter;
  respond_execution(ex, q, nodes, dc, result.failovers);
}

// No healthy instance here: the query runs in the datacenters its Failover
// names, as Consul's queryFailover (agent/forward/query_failover.h).
void fail_over_query(Agent& agent, const ExchangePtr& ex, PreparedQuery q, int limit) {
  std::vector<std::string> datacenters =
      agent.failover_datacenters(q.service.failover.nearest_n, q.service.failover.datacenters);
  auto route = [&agent](std::string_view dc) { return agent.route_to_datacenter(dc); };
  forward::fail_over(route, std::move(datacenters), q, static_cast<uint32_t>(limit),
                     [&agent, ex, q](forward::FailoverResult result) {
                       answer_failed_over(agent, ex, q, std::move(result));
                     });
}

void execute_query(Agent& agent, const ExchangePtr& ex, const std::string& id_or_name) {
  const http::Request& req = ex->request;
  int limit = 0;
  if (const std::string* p = req.param("limit")) {
    char* end = nullptr;
    long v = std::strtol(p->c_str(), &end, 10);
    if (p->empty() || *end != '\0' || v < 0 || v > INT32_MAX) {
      respond_error(ex, 400, "Bad limit: strconv.Atoi: parsing \"" + *p + "\": invalid syntax");
      return;
    }
    limit = static_cast<int>(v);
  }
  PreparedQuery q;
  if (!resolve(agent, ex, id_or_name, q)) return;
  if (const std::string* p = req.param("connect")) {
    bool connect = false;
    if (!parse_bool_param(*p, connect)) {
      respond_error(ex, 400, "Invalid value for ?connect");
      return;
    }
    q.service.connect = q.service.connect || connect;
  }
  const state::Store& st = agent.store();
  std::vector<state::QueryResultNode> nodes = state::execute_query(st, q.service);
  const state::QueryFailover& failover = q.service.failover;
  if (nodes.empty() && agent.is_server() &&
      (failover.nearest_n > 0 || !failover.datacenters.empty()))
    return fail_over_query(agent, ex, std::move(q), limit);
  shuffle(nodes);

  // The request's ?near wins over the query's Near; "_agent" is this agent's
  // node, "_ip" the node whose address is the client's.
  std::string near = q.service.near;
  if (const std::string* p = req.param("near")) near = *p;
  if (near == "_agent")
    near = req.origin_node.empty() ? agent.identity().name : req.origin_node;
  else if (near == "_ip") {
    std::string ip = req.remote_ip;
    if (const std::string* xff = req.header("x-forwarded-for")) ip = xff->substr(0, xff->find(','));
    while (!ip.empty() && ip.front() == ' ') ip.erase(0, 1);
    while (!ip.empty() && ip.back() == ' ') ip.pop_back();
    near.clear();
    for (const auto& [_, n] : st.nodes())
      if (!ip.empty() && n.address == ip) {
        near = n.name;
        break;
      }
  }
  NearOrder(agent, near).sort(nodes, [](const state::QueryResultNode& r) -> const std::string& { return r.node->name; });
  state::move_node_first(nodes, near);
  if (limit > 0 && nodes.size() > static_cast<size_t>(limit)) nodes.resize(limit);
  respond_execution(ex, q, nodes, agent.config().datacenter, 0);
}

void explain_query(Agent& agent, const ExchangePtr& ex, const std::string& id_or_name) {
  PreparedQuery q;
  if (!resolve(agent, ex, id_or_name, q)) return;
  std::string body;
  JsonWriter w(body, ex->request.has_param("pretty"));
  w.begin_object();
  w.key("Query");
  write_query(w, q);
  w.end_object();
  respond_query_meta(ex, std::move(body));
}

// /v1/query: GET lists the queries, POST creates one.
void query_root(Agent& agent, const ExchangePtr& ex, const std::string&) {
  if (ex->request.method == "POST")
    create_query(agent, ex);
  else
    list_queries(agent, ex);
}

// /v1/query/<id> (GET, PUT, DELETE) and /v1/query/<id>/{execute,explain} (GET).
void query_by_id(Agent& agent, const ExchangePtr& ex, const std::string& rest) {
  const std::string& method = ex->request.method;
  auto action = [&](std::string_view suffix) {
    return rest.size() > suffix.size() &&
           rest.compare(rest.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (action("/execute") || action("/explain")) {
    if (method != "GET") {
      http::Response resp = http::Response::text(405, "method " + method + " not allowed");
      resp.set_header("Allow", "GET");
      respond(ex, std::move(resp));
      return;
    }
    std::string id = rest.substr(0, rest.rfind('/'));
    if (action("/execute"))
      execute_query(agent, ex, id);
    else
      explain_query(agent, ex, id);
    return;
  }
  if (rest.empty() || rest.find('/') != std::string::npos) {
    respond_error(ex, 400, "Missing query ID");
    return;
  }
  if (method == "GET")
    get_query(agent, ex, rest);
  else if (method == "PUT")
    update_query(agent, ex, rest);
  else
    delete_query(agent, ex, rest);
}

}  // namespace

void add_query_routes(Router& r, Agent& agent) {
  r.add("GET,POST", "/v1/query", bind_endpoint(agent, query_root));
  r.add("GET,PUT,DELETE", "/v1/query/", bind_endpoint(agent, query_by_id));
}

}  // namespace cairn::http_api
