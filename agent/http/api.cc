#include "agent/http/api.h"

#include "agent/agent.h"
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

bool check_datacenter(const ExchangePtr& ex, const Agent& agent, const std::string& dc) {
  if (dc.empty() || dc == agent.config().datacenter) return true;
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
          agent.metrics().counter("consul.http.bad_requests", "HTTP requests answered with 400")) {
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
  add_operator_routes(router_, agent);
  add_agent_debug_routes(router_, agent);
  router_.set_guard(datacenter_guard(agent));
}

void Api::handle(const ExchangePtr& ex) {
  requests_.inc();
  const std::string& path = ex->request.path;
  if (path.rfind("/v1/", 0) == 0) {
    // A client agent holds no catalog of the datacenter: a server answers.
    if (forward::Forwarder* f = agent_.forwarder(); f && forward::forwarded_path(path))
      return f->forward(ex);
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
