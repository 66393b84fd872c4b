// /v1/status: leader and peers (reference section 8).
#include "agent/agent.h"
#include "agent/http/endpoints.h"
#include "agent/http/reply.h"

namespace cairn::http_api {

namespace {

void status_leader(Agent& agent, const ExchangePtr& ex, const std::string&) {
  std::string body;
  JsonWriter w(body);
  w.string(agent.leader_address());
  respond_json(ex, std::move(body));
}

void status_peers(Agent& agent, const ExchangePtr& ex, const std::string&) {
  std::string body;
  JsonWriter w(body);
  w.begin_array();
  if (!agent.leader_address().empty()) w.string(agent.leader_address());
  w.end_array();
  respond_json(ex, std::move(body));
}

}  // namespace

void add_status_routes(Router& r, Agent& agent) {
  r.add("GET", "/v1/status/leader", bind_endpoint(agent, status_leader));
  r.add("GET", "/v1/status/peers", bind_endpoint(agent, status_peers));
}

}  // namespace cairn::http_api
