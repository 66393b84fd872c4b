// Route tables of the HTTP API, one function per Consul endpoint family.
#pragma once

#include "agent/gossip/serf.h"
#include "agent/http/router.h"
#include "agent/ops/op_error.h"
#include "agent/state/input_limits.h"
#include "agent/state/rows.h"
#include "common/decode.h"
#include "common/json_writer.h"
#include "common/value.h"

namespace cairn {
class Agent;
}

namespace cairn::http_api {

// One endpoint of the API: answers ex for the agent; rest is what follows a
// prefix route ("" for exact routes).
using Endpoint = void (*)(Agent& agent, const ExchangePtr& ex, const std::string& rest);
// The route handler that calls the endpoint for this agent.
RouteHandler bind_endpoint(Agent& agent, Endpoint endpoint);

// A catalog check body (catalog register, txn Check operations).
state::Check decode_catalog_check(Decoder& d, const Value& v);

void add_agent_routes(Router& r, Agent& agent);
void add_catalog_routes(Router& r, Agent& agent);
void add_health_routes(Router& r, Agent& agent);
void add_status_routes(Router& r, Agent& agent);
void add_kv_routes(Router& r, Agent& agent);
void add_session_routes(Router& r, Agent& agent);
void add_txn_routes(Router& r, Agent& agent);
void add_gossip_routes(Router& r, Agent& agent);
void add_coordinate_routes(Router& r, Agent& agent);
// This agent as a /v1/agent/members entry (when gossip is off).
void write_self_member(JsonWriter& w, const Agent& agent);
// A gossip member as /v1/agent/members lists it.
void write_member(JsonWriter& w, const gossip::Member& m);
// GET /v1/agent/self.
void add_agent_self_routes(Router& r, Agent& agent);
void add_query_routes(Router& r, Agent& agent);
// GET and PUT /v1/snapshot.
void add_snapshot_routes(Router& r, Agent& agent);
// /v1/operator: usage, autopilot, raft transfer-leader (operator_endpoints.cc).
void add_operator_routes(Router& r, Agent& agent);
// GET /v1/agent/host (host_info.h) and /v1/agent/monitor (monitor_endpoint.cc).
void add_agent_debug_routes(Router& r, Agent& agent);

// For a datacenter that is not ours: forwards the request there (false), or
// answers 500 "No path to datacenter" (false). True for ours.
bool check_datacenter(const ExchangePtr& ex, Agent& agent, const std::string& dc);
// Answers 400 with the limit's message and counts the refusal in
// consul.http.limit_rejections{limit=...}.
void respond_limit_error(const ExchangePtr& ex, Agent& agent, const state::LimitError& e);
// Answers a refused request with its status and message; a refused limit is
// counted as respond_limit_error counts it.
void respond_op_error(const ExchangePtr& ex, Agent& agent, const ops::OpError& e);

}  // namespace cairn::http_api
