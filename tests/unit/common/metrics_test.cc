#include "common/metrics.h"

#include <doctest/doctest.h>

#include "common/json_writer.h"

using cairn::MetricsRegistry;

TEST_CASE("add_from sums counters and gauges and combines summaries, by name and labels") {
  MetricsRegistry a, b, all;
  a.counter("consul.dns.queries", "q", {{"type", "A"}}).inc(3);
  b.counter("consul.dns.queries", "q", {{"type", "A"}}).inc(4);
  b.counter("consul.dns.queries", "q", {{"type", "SRV"}}).inc(1);
  a.gauge("g", "gauge").set(1.5);
  b.gauge("g", "gauge").set(2.0);
  a.summary("t", "time").observe(2.0);
  b.summary("t", "time").observe(0.5);
  b.summary("t", "time").observe(9.0);
  b.summary("empty", "never observed");

  all.add_from(a);
  all.add_from(b);
  CHECK(all.counter("consul.dns.queries", "q", {{"type", "A"}}).value == 7);
  CHECK(all.counter("consul.dns.queries", "q", {{"type", "SRV"}}).value == 1);
  CHECK(all.gauge("g", "gauge").value == 3.5);
  auto& t = all.summary("t", "time");
  CHECK(t.count == 3);
  CHECK(t.sum == 11.5);
  CHECK(t.min == 0.5);
  CHECK(t.max == 9.0);
  CHECK(all.summary("empty", "never observed").count == 0);
  // The sources are unchanged.
  CHECK(a.counter("consul.dns.queries", "q", {{"type", "A"}}).value == 3);
}

TEST_CASE("Prometheus names: dots, dashes, spaces, '=' and '/' become underscores") {
  CHECK(cairn::prometheus_name("consul.http.GET.v1.kv._") == "consul_http_GET_v1_kv__");
  CHECK(cairn::prometheus_name("consul.prepared-query.apply") == "consul_prepared_query_apply");
  CHECK(cairn::prometheus_name("a b=c/d") == "a_b_c_d");
}

TEST_CASE("Prometheus text: types, labels, and timers only once they observed something") {
  MetricsRegistry m;
  m.counter("consul.client.rpc", "rpcs").inc(2);
  m.gauge("consul.state.nodes", "nodes").set(3);
  m.summary("consul.api.http", "http", {{"method", "GET"}, {"path", "v1.agent.services"}})
      .observe(1.5);
  m.summary("consul.api.http", "http", {{"method", "PUT"}, {"path", "v1.kv._"}});
  m.summary("consul.kvs.apply", "never observed");
  std::string text = m.prometheus();
  CHECK(text.find("# TYPE consul_client_rpc counter\nconsul_client_rpc 2\n") != std::string::npos);
  CHECK(text.find("# TYPE consul_state_nodes gauge\nconsul_state_nodes 3\n") != std::string::npos);
  CHECK(text.find("# TYPE consul_api_http summary\n") != std::string::npos);
  CHECK(text.find("consul_api_http_count{method=\"GET\",path=\"v1.agent.services\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("consul_api_http_sum{method=\"GET\",path=\"v1.agent.services\"} 1.5\n") !=
        std::string::npos);
  CHECK(text.find("v1.kv._") == std::string::npos);
  CHECK(text.find("consul_kvs_apply") == std::string::npos);
}

TEST_CASE("JSON: Consul's shape, with timers under Samples and counters under Counters") {
  MetricsRegistry m;
  m.counter("consul.catalog.register.count", "c").inc(4);
  m.gauge("consul.state.kv_entries", "kv", {{"datacenter", "dc1"}}).set(2);
  auto& t = m.summary("consul.http.GET.v1.agent.services", "t");
  t.observe(1);
  t.observe(3);
  m.summary("consul.http.PUT.v1.kv._", "never");
  std::string out;
  cairn::JsonWriter w(out);
  m.write_json(w, 0);
  CHECK(out.starts_with(R"({"Timestamp":"1970-01-01 00:00:00 +0000 UTC","Gauges":[)"));
  CHECK(out.find(R"({"Name":"consul.state.kv_entries","Value":2,"Labels":{"datacenter":"dc1"}})") !=
        std::string::npos);
  CHECK(out.find(R"("Points":[])") != std::string::npos);
  CHECK(out.find(R"("Counters":[{"Name":"consul.catalog.register.count","Count":4,)") !=
        std::string::npos);
  CHECK(out.find(R"("Samples":[{"Name":"consul.http.GET.v1.agent.services","Count":2,)") !=
        std::string::npos);
  CHECK(out.find(R"("Min":1,"Max":3,"Mean":2,)") != std::string::npos);
  CHECK(out.find("v1.kv._") == std::string::npos);
}
