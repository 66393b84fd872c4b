// The router's timers: Consul's HTTP metric names for each route and method.
#include "agent/http/router.h"

#include <doctest/doctest.h>

using namespace cairn;
using namespace cairn::http_api;

namespace {

std::shared_ptr<http::Exchange> request(const char* method, const char* path,
                                        http::Response* answer) {
  auto ex = std::make_shared<http::Exchange>([answer](http::Response r) { *answer = r; });
  ex->request.method = method;
  ex->request.path = path;
  return ex;
}

}  // namespace

TEST_CASE("route patterns as Consul names them: segments joined by dots, '_' for a prefix") {
  CHECK(route_metric_path("/v1/agent/services") == "v1.agent.services");
  CHECK(route_metric_path("/v1/kv/") == "v1.kv._");
  CHECK(route_metric_path("/v1/agent/service/deregister/") == "v1.agent.service.deregister._");
  CHECK(route_metric_path("/v1/txn") == "v1.txn");
}

TEST_CASE("a dispatched request is timed under both of Consul's names and an endpoint timer") {
  Router r;
  std::shared_ptr<http::Exchange> parked;
  r.add("GET", "/v1/agent/services", [](const ExchangePtr& ex, const std::string&) {
    ex->respond(http::Response::text(200, "ok"));
  });
  r.add("GET,PUT", "/v1/kv/",
        [&parked](const ExchangePtr& ex, const std::string&) { parked = ex; });
  MetricsRegistry m;
  r.register_timers(m);
  Summary& apply = m.summary("consul.kvs.apply", "kv");
  r.add_timer("PUT", "/v1/kv/", apply);

  http::Response answer;
  r.dispatch(request("GET", "/v1/agent/services", &answer));
  CHECK(answer.status == 200);
  CHECK(m.summary("consul.http.GET.v1.agent.services", "").count == 1);
  CHECK(
      m.summary("consul.api.http", "", {{"method", "GET"}, {"path", "v1.agent.services"}}).count ==
      1);

  // Timed when the answer goes out, not when the handler returns.
  r.dispatch(request("PUT", "/v1/kv/a/b", &answer));
  REQUIRE(parked);
  CHECK(m.summary("consul.http.PUT.v1.kv._", "").count == 0);
  parked->respond(http::Response::text(200, "true"));
  CHECK(m.summary("consul.http.PUT.v1.kv._", "").count == 1);
  CHECK(apply.count == 1);
  CHECK(m.summary("consul.http.GET.v1.kv._", "").count == 0);

  // A request forwarded elsewhere is timed without a handler running.
  auto fwd = request("GET", "/v1/kv/x", &answer);
  parked.reset();
  r.time(fwd);
  fwd->respond(http::Response::text(200, "[]"));
  CHECK_FALSE(parked);
  CHECK(m.summary("consul.http.GET.v1.kv._", "").count == 1);
  CHECK(apply.count == 1);

  // On the server, a forwarded request counts only as the endpoint it runs.
  auto forwarded = request("PUT", "/v1/kv/y", &answer);
  forwarded->request.origin_node = "client-1";
  r.dispatch(forwarded);
  parked->respond(http::Response::text(200, "true"));
  CHECK(apply.count == 2);
  CHECK(m.summary("consul.http.PUT.v1.kv._", "").count == 1);
}

TEST_CASE("404 and 405 answers are not timed under a route") {
  Router r;
  r.add("GET", "/v1/status/leader", [](const ExchangePtr& ex, const std::string&) {
    ex->respond(http::Response::text(200, "\"\""));
  });
  MetricsRegistry m;
  r.register_timers(m);
  http::Response answer;
  r.dispatch(request("PUT", "/v1/status/leader", &answer));
  CHECK(answer.status == 405);
  r.dispatch(request("GET", "/v1/nope", &answer));
  CHECK(answer.status == 404);
  CHECK(m.summary("consul.http.GET.v1.status.leader", "").count == 0);
  CHECK(m.prometheus().find("consul_http_") == std::string::npos);
}
