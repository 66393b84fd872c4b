#include "agent/http/router.h"

#include <sstream>

namespace cairn::http_api {

void Router::add(const std::string& methods, const std::string& pattern, RouteHandler handler) {
  Route r;
  std::stringstream ss(methods);
  std::string m;
  while (std::getline(ss, m, ',')) r.methods.push_back(m);
  r.pattern = pattern;
  r.prefix = !pattern.empty() && pattern.back() == '/';
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

void Router::dispatch(const ExchangePtr& ex) const {
  const std::string& path = ex->request.path;
  // Collect the most specific matching pattern (exact first, then longest prefix).
  const std::string* best = nullptr;
  bool best_exact = false;
  for (const Route& r : routes_) {
    bool match = r.prefix ? path.size() >= r.pattern.size() &&
                                path.compare(0, r.pattern.size(), r.pattern) == 0
                          : path == r.pattern;
    if (!match) continue;
    if (!r.prefix) {
      best = &r.pattern;
      best_exact = true;
      break;
    }
    if (!best || r.pattern.size() > best->size()) best = &r.pattern;
  }
  if (!best) {
    ex->respond(http::Response::text(404, "404 page not found\n"));
    return;
  }
  std::string allow;
  for (const Route& r : routes_) {
    if (r.pattern != *best || r.prefix == best_exact) continue;
    for (const auto& m : r.methods) {
      if (m == ex->request.method) {
        if (guard_ && !guard_(ex, r.pattern)) return;
        std::string rest = r.prefix ? path.substr(r.pattern.size()) : std::string();
        r.handler(ex, rest);
        return;
      }
      if (!allow.empty()) allow += ',';
      allow += m;
    }
  }
  http::Response resp = http::Response::text(405, "method " + ex->request.method + " not allowed");
  resp.set_header("Allow", allow);
  ex->respond(std::move(resp));
}

}  // namespace cairn::http_api
