// Routes /v1 requests by path to handlers, as Consul's mux does: an exact
// path beats a prefix, a longer prefix beats a shorter one, and a path that
// exists with other methods answers 405 with an Allow header.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/http/server.h"

namespace cairn::http_api {

using ExchangePtr = std::shared_ptr<http::Exchange>;
// rest: what follows a prefix route (percent-decoded), "" for exact routes.
using RouteHandler = std::function<void(const ExchangePtr&, const std::string& rest)>;

class Router {
 public:
  // pattern ending in '/' is a prefix route; methods like "GET" or "GET,PUT".
  void add(const std::string& methods, const std::string& pattern, RouteHandler handler);
  // Dispatches; answers 404/405 itself.
  void dispatch(const ExchangePtr& ex) const;

  // Runs after a route matched, before its handler, with the route's pattern:
  // false means the guard answered the request itself.
  using Guard = std::function<bool(const ExchangePtr&, const std::string& pattern)>;
  void set_guard(Guard guard) { guard_ = std::move(guard); }

 private:
  struct Route {
    std::vector<std::string> methods;
    std::string pattern;
    bool prefix;
    RouteHandler handler;
  };
  std::vector<Route> routes_;
  Guard guard_;
};

}  // namespace cairn::http_api
