// ?dc=: the one place the API checks which datacenter a request asks for.
//
// Consul's handlers that call parseDC send the request to that datacenter's
// servers, and its router answers 500 "No path to datacenter" when it knows
// no way there. cairn forwards to no other datacenter yet (that needs the
// server RPC), so every route that takes ?dc= answers that way for any
// datacenter but the agent's own, before its handler runs; the routes that
// do not take it (/v1/agent/*, /v1/catalog/datacenters, ...) ignore it, as
// Consul's do. A catalog registration's Datacenter field is the body's, and
// its handler checks it.
#pragma once

#include <string_view>

#include "agent/http/router.h"

namespace cairn {
class Agent;
}

namespace cairn::http_api {

// Whether the route (a Router pattern such as "/v1/kv/") takes ?dc=.
bool route_takes_datacenter(std::string_view pattern);

// A Router guard: for a route that takes ?dc=, answers 500 "No path to
// datacenter" when the request names another datacenter than the agent's.
Router::Guard datacenter_guard(const Agent& agent);

}  // namespace cairn::http_api
