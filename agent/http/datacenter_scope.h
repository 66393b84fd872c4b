// ?dc=: the one place the API checks which datacenter a request asks for.
//
// Consul's handlers that call parseDC send the request to that datacenter's
// servers, and its router answers 500 "No path to datacenter" when it knows
// no way there. So does cairn, before the route's handler runs: a server
// sends the request over the server RPC to a server of that datacenter from
// the WAN pool, which answers it as its own (headers included); a client
// agent sends it to its own server, which does the same. The routes that do
// not take ?dc= (/v1/agent/*, /v1/catalog/datacenters, ...) ignore it, as
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

// A Router guard: for a route that takes ?dc= naming another datacenter than
// the agent's, forwards the request there, or answers 500 "No path to
// datacenter" when there is no way there.
Router::Guard datacenter_guard(Agent& agent);

}  // namespace cairn::http_api
