#include "agent/http/api.h"

#include "agent/agent.h"
#include "agent/forward/catalog_mirror.h"
#include "agent/forward/forward_service.h"
#include "agent/forward/forwarder.h"
#include "agent/http/datacenter_scope.h"
#include "agent/http/endpoints.h"
#include "agent/http/reply.h"

namespace cairn::http_api {

RouteHandler bind_endpoint(Agent& agent, Endpoint endpoint) {
  return [&agent, endpoint](const ExchangePtr& ex, const std::string& rest) {
    endpoint(agent, ex, rest);
  };
}

bool check_datacenter(const ExchangePtr& ex, Agent& agent, const std::string& dc) {
  if (dc.empty() || dc == agent.config().datacenter) return true;
  if (forward::Forwarder* way = agent.route_to_datacenter(dc))
    way->forward(ex);
  else
    respond_error(ex, 500, "No path to datacenter");
  return false;
}

void respond_limit_error(const ExchangePtr& ex, Agent& agent, const state::LimitError& e) {
  agent.metrics()
      .counter("consul.http.limit_rejections",
               "Requests refused because a key, identifier or list exceeded its limit",
               {{"limit", std::string(e.limit)}})
      .inc();
  respond_error(ex, 400, e.message);
}

void respond_op_error(const ExchangePtr& ex, Agent& agent, const ops::OpError& e) {
  if (e.code == ops::OpErrorCode::limit)
    respond_limit_error(ex, agent, state::LimitError{e.limit, e.message});
  else
    respond_error(ex, e.http_status(), e.message);
}

Api::Api(Agent& agent)
    : agent_(agent),
      requests_(agent.metrics().counter("consul.http.requests", "HTTP requests served")),
      client_errors_(
          agent.metrics().counter("consul.http.bad_requests", "HTTP requests answered with 400")),
      rpc_queries_(agent.metrics().counter(
          "consul.rpc.query", "Reads of the datacenter's state served by this server")) {
  add_agent_routes(router_, agent);
  add_agent_self_routes(router_, agent);
  add_catalog_routes(router_, agent);
  add_health_routes(router_, agent);
  add_status_routes(router_, agent);
  add_kv_routes(router_, agent);
  add_session_routes(router_, agent);
  add_txn_routes(router_, agent);
  add_gossip_routes(router_, agent);
  add_coordinate_routes(router_, agent);
  add_query_routes(router_, agent);
  add_snapshot_routes(router_, agent);
  add_operator_routes(router_, agent);
  add_agent_debug_routes(router_, agent);
  router_.set_guard(datacenter_guard(agent));
  router_.register_timers(agent.metrics());
  if (agent.is_server()) add_server_timers();
}

// Consul times these RPC endpoints on the server that runs them; cairn's
// servers run them as the HTTP routes below (a client agent forwards them).
void Api::add_server_timers() {
  struct EndpointTimer {
    const char* method;
    const char* pattern;
    const char* name;
    const char* help;
  };
  static constexpr EndpointTimer kTimers[] = {
      {"PUT", "/v1/catalog/register", "consul.catalog.register",
       "Milliseconds to apply a catalog registration"},
      {"PUT", "/v1/catalog/deregister", "consul.catalog.deregister",
       "Milliseconds to apply a catalog deregistration"},
      {"PUT", "/v1/kv/", "consul.kvs.apply", "Milliseconds to apply a KV write"},
      {"DELETE", "/v1/kv/", "consul.kvs.apply", "Milliseconds to apply a KV write"},
      {"PUT", "/v1/txn", "consul.txn.apply", "Milliseconds to apply a transaction"},
      {"PUT", "/v1/session/create", "consul.session.apply",
       "Milliseconds to create or destroy a session"},
      {"PUT", "/v1/session/destroy/", "consul.session.apply",
       "Milliseconds to create or destroy a session"},
      {"PUT", "/v1/session/renew/", "consul.session.renew", "Milliseconds to renew a session"},
      {"POST", "/v1/query", "consul.prepared-query.apply",
       "Milliseconds to create, update or delete a prepared query"},
      {"PUT", "/v1/query/", "consul.prepared-query.apply",
       "Milliseconds to create, update or delete a prepared query"},
      {"DELETE", "/v1/query/", "consul.prepared-query.apply",
       "Milliseconds to create, update or delete a prepared query"},
  };
  for (const EndpointTimer& t : kTimers)
    router_.add_timer(t.method, t.pattern, agent_.metrics().summary(t.name, t.help));
}

// A client agent answers service health and catalog reads of its own
// datacenter from its streamed view of the catalog (no round trip; blocking
// queries wake from the stream), once the view holds that service: while
// its servers are gone too, with X-Consul-LastContact saying how old the
// view is. A service it does not hold yet is subscribed to, and this read
// goes to a server, as do a ?consistent read and everything else.
bool Api::answers_from_view(const http::Request& r) const {
  forward::CatalogMirror* view = agent_.catalog_mirror();
  if (view == nullptr || !view->loaded() || (r.method != "GET" && r.method != "HEAD")) return false;
  if (r.has_param("consistent")) return false;
  if (const std::string* dc = r.param("dc"); dc && !dc->empty() && *dc != agent_.config().datacenter)
    return false;
  for (std::string_view prefix : {"/v1/health/service/", "/v1/catalog/service/"}) {
    if (!r.path.starts_with(prefix)) continue;
    std::string_view service = std::string_view(r.path).substr(prefix.size());
    // A name the view cannot hold as it is (escaped, or a path below it).
    if (service.empty() || service.find_first_of("%/") != std::string_view::npos) return false;
    return view->covers(state::lower(service));
  }
  return false;
}

void Api::handle(const ExchangePtr& ex) {
  requests_.inc();
  const std::string& path = ex->request.path;
  if (path.rfind("/v1/", 0) == 0) {
    bool datacenter_path = forward::forwarded_path(path);
    // A client agent holds no catalog of the datacenter: a server answers.
    if (forward::Forwarder* f = agent_.forwarder();
        f && datacenter_path && !answers_from_view(ex->request)) {
      router_.time(ex);
      return f->forward(ex);
    }
    // A read of the replicated state, as Consul's servers count their read RPCs.
    if (datacenter_path && ex->request.method == "GET" && agent_.is_server()) rpc_queries_.inc();
    router_.dispatch(ex);
    return;
  }
  // Consul's index without a UI: cairn has no web UI yet, so it never
  // redirects to one, whatever ui_config says (the start-up warning names it).
  if (path == "/") {
    respond(ex, http::Response::text(
                    200, "Consul Agent: UI disabled. cairn does not serve the web UI yet."));
    return;
  }
  respond(ex, http::Response::text(404, "Invalid URL path: if attempting to use the HTTP API, "
                                        "ensure the path starts with '/v1/'\n"));
}

}  // namespace cairn::http_api
