#include "agent/http/agent_cache.h"

namespace cairn::http_api {

namespace {

bool path_starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

bool consul_caches(std::string_view path) {
  // The reads of Consul's agent cache types (catalog services and service
  // nodes, health services, prepared query executions, Connect CA roots and
  // leaves, discovery chains).
  static constexpr std::string_view kPrefixes[] = {
      "/v1/catalog/service/", "/v1/catalog/connect/", "/v1/health/service/",
      "/v1/health/connect/",  "/v1/health/ingress/",  "/v1/agent/connect/ca/leaf/",
      "/v1/discovery-chain/",
  };
  if (path == "/v1/catalog/services" || path == "/v1/agent/connect/ca/roots") return true;
  for (std::string_view p : kPrefixes)
    if (path_starts_with(path, p) && path.size() > p.size()) return true;
  constexpr std::string_view kQuery = "/v1/query/", kExecute = "/execute";
  return path_starts_with(path, kQuery) && path.size() > kQuery.size() + kExecute.size() &&
         path.substr(path.size() - kExecute.size()) == kExecute;
}

void add_agent_cache_headers(const http::Request& req, http::Response& resp) {
  if (!req.has_param("cached") || !consul_caches(req.path)) return;
  resp.set_header("X-Cache", "HIT");
  resp.set_header("Age", "0");
}

}  // namespace cairn::http_api
