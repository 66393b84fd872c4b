#include "agent/http/router.h"

#include <sstream>

namespace cairn::http_api {

std::string route_metric_path(std::string_view pattern) {
  std::string out;
  bool first = true;
  size_t start = 0;
  while (start <= pattern.size()) {
    size_t slash = pattern.find('/', start);
    std::string_view part = pattern.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!(start == 0 && part.empty())) {  // the leading '/'
      if (!first) out += '.';
      first = false;
      out += part.empty() ? std::string_view("_") : part;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

void Router::add(const std::string& methods, const std::string& pattern, RouteHandler handler) {
  Route r;
  std::stringstream ss(methods);
  std::string m;
  while (std::getline(ss, m, ',')) r.methods.push_back(m);
  r.timers.resize(r.methods.size());
  r.pattern = pattern;
  r.prefix = !pattern.empty() && pattern.back() == '/';
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

void Router::register_timers(MetricsRegistry& metrics) {
  for (Route& r : routes_) {
    std::string path = route_metric_path(r.pattern);
    for (size_t i = 0; i < r.methods.size(); ++i) {
      const std::string& method = r.methods[i];
      r.timers[i][0] = &metrics.summary("consul.http." + method + "." + path,
                                        "Milliseconds to answer " + method + " " + r.pattern);
      r.timers[i][1] = &metrics.summary("consul.api.http", "Milliseconds to answer HTTP requests",
                                        {{"method", method}, {"path", path}});
    }
  }
}

void Router::add_timer(std::string_view method, std::string_view pattern, Summary& timer) {
  for (Route& r : routes_) {
    if (r.pattern != pattern) continue;
    for (size_t i = 0; i < r.methods.size(); ++i)
      if (r.methods[i] == method) r.timers[i][2] = &timer;
  }
}

const std::string* Router::best_pattern(const std::string& path, bool& exact) const {
  const std::string* best = nullptr;
  exact = false;
  for (const Route& r : routes_) {
    bool match = r.prefix ? path.size() >= r.pattern.size() &&
                                path.compare(0, r.pattern.size(), r.pattern) == 0
                          : path == r.pattern;
    if (!match) continue;
    if (!r.prefix) {
      exact = true;
      return &r.pattern;
    }
    if (!best || r.pattern.size() > best->size()) best = &r.pattern;
  }
  return best;
}

void Router::time(const ExchangePtr& ex) const {
  bool exact;
  const std::string* best = best_pattern(ex->request.path, exact);
  if (!best) return;
  for (const Route& r : routes_) {
    if (r.pattern != *best || r.prefix == exact) continue;
    for (size_t i = 0; i < r.methods.size(); ++i)
      if (r.methods[i] == ex->request.method) return ex->time_response(r.timers[i]);
  }
}

void Router::dispatch(const ExchangePtr& ex) const {
  const std::string& path = ex->request.path;
  bool best_exact;
  const std::string* best = best_pattern(path, best_exact);
  if (!best) {
    ex->respond(http::Response::text(404, "404 page not found\n"));
    return;
  }
  std::string allow;
  for (const Route& r : routes_) {
    if (r.pattern != *best || r.prefix == best_exact) continue;
    for (size_t i = 0; i < r.methods.size(); ++i) {
      const std::string& m = r.methods[i];
      if (m == ex->request.method) {
        // A client agent timed a request it forwarded under the HTTP names
        // already; here it counts only as the endpoint it runs, as in Consul,
        // where it arrives as an RPC.
        if (ex->request.origin_node.empty())
          ex->time_response(r.timers[i]);
        else
          ex->time_response({nullptr, nullptr, r.timers[i][2]});
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
