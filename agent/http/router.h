// Routes /v1 requests by path to handlers, as Consul's mux does: an exact
// path beats a prefix, a longer prefix beats a shorter one, and a path that
// exists with other methods answers 405 with an Allow header. Each route and
// method can carry timers: the request's answer time goes to them.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/server.h"
#include "common/metrics.h"

namespace cairn::http_api {

using ExchangePtr = std::shared_ptr<http::Exchange>;
// rest: what follows a prefix route (percent-decoded), "" for exact routes.
using RouteHandler = std::function<void(const ExchangePtr&, const std::string& rest)>;

// A route pattern as Consul names it in its HTTP timers: the path's segments
// joined by '.', an empty one (a prefix route's trailing '/') as '_':
// "/v1/agent/services" -> "v1.agent.services", "/v1/kv/" -> "v1.kv._".
std::string route_metric_path(std::string_view pattern);

class Router {
 public:
  // pattern ending in '/' is a prefix route; methods like "GET" or "GET,PUT".
  void add(const std::string& methods, const std::string& pattern, RouteHandler handler);
  // Dispatches; answers 404/405 itself.
  void dispatch(const ExchangePtr& ex) const;

  // Registers, for every route and method added so far, Consul's two HTTP
  // timers: consul.http.<METHOD>.<path> (the name before 1.9, still emitted
  // by default) and consul.api.http{method,path}. Once, after the routes.
  void register_timers(MetricsRegistry& metrics);
  // One more timer for a route's method (a server's consul.catalog.register).
  void add_timer(std::string_view method, std::string_view pattern, Summary& timer);
  // dispatch() starts the matched route's timers; a request a client agent
  // forwarded here (origin_node set) gets only the endpoint timer.
  // Starts ex's timers as dispatch() would, without dispatching (a client
  // agent forwards the request to a server but times it like Consul does).
  void time(const ExchangePtr& ex) const;

  // Runs after a route matched, before its handler, with the route's pattern:
  // false means the guard answered the request itself.
  using Guard = std::function<bool(const ExchangePtr&, const std::string& pattern)>;
  void set_guard(Guard guard) { guard_ = std::move(guard); }

 private:
  using Timers = std::array<Summary*, http::Exchange::kMaxTimers>;
  struct Route {
    std::vector<std::string> methods;
    std::vector<Timers> timers;  // one per method
    std::string pattern;
    bool prefix;
    RouteHandler handler;
  };
  // The most specific pattern matching path (exact first, then the longest
  // prefix) and whether it is exact; null when none matches.
  const std::string* best_pattern(const std::string& path, bool& exact) const;

  std::vector<Route> routes_;
  Guard guard_;
};

}  // namespace cairn::http_api
