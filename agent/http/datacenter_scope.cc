#include "agent/http/datacenter_scope.h"

#include "agent/agent.h"
#include "agent/forward/forwarder.h"
#include "agent/http/endpoints.h"
#include "agent/http/reply.h"

namespace cairn::http_api {

namespace {

// Families of Consul endpoints whose handlers call parseDC (they read from
// or write to a datacenter's servers), by path prefix.
constexpr std::string_view kDatacenterScopedPrefixes[] = {
    "/v1/catalog/",
    "/v1/health/",
    "/v1/kv",
    "/v1/session/",
    "/v1/query",
    "/v1/txn",
    "/v1/status/",
    "/v1/coordinate/",
    "/v1/event/fire/",
    "/v1/operator/raft/",
    "/v1/operator/autopilot/",
    "/v1/operator/usage",
    "/v1/snapshot",
    "/v1/acl/",
    "/v1/connect/",
    "/v1/config",
    "/v1/discovery-chain/",
    "/v1/internal/",
};

// Routes of those families that answer from the agent itself: the known
// datacenters, and a catalog write whose datacenter is in its body.
constexpr std::string_view kLocalRoutes[] = {
    "/v1/catalog/datacenters",
    "/v1/coordinate/datacenters",
    "/v1/catalog/register",
    "/v1/catalog/deregister",
};

}  // namespace

bool route_takes_datacenter(std::string_view pattern) {
  for (auto local : kLocalRoutes)
    if (pattern == local) return false;
  for (auto prefix : kDatacenterScopedPrefixes)
    if (pattern.substr(0, prefix.size()) == prefix) return true;
  return false;
}

namespace {

bool route_by_datacenter(Agent& agent, const ExchangePtr& ex, const std::string& pattern) {
  if (!route_takes_datacenter(pattern)) return true;
  const std::string* dc = ex->request.param("dc");
  if (dc == nullptr || dc->empty() || *dc == agent.config().datacenter) return true;
  if (forward::Forwarder* way = agent.route_to_datacenter(*dc)) {
    way->forward(ex);
    return false;
  }
  respond_error(ex, 500, "No path to datacenter");
  return false;
}

}  // namespace

Router::Guard datacenter_guard(Agent& agent) {
  return [&agent](const ExchangePtr& ex, const std::string& pattern) {
    return route_by_datacenter(agent, ex, pattern);
  };
}

}  // namespace cairn::http_api
