#include "agent/http/agent_cache.h"

#include <doctest/doctest.h>

using namespace cairn;
using namespace cairn::http_api;

TEST_CASE("the reads Consul's agent cache serves") {
  CHECK(consul_caches("/v1/catalog/services"));
  CHECK(consul_caches("/v1/catalog/service/web"));
  CHECK(consul_caches("/v1/health/service/web"));
  CHECK(consul_caches("/v1/query/6e3c5cc9-0000-4000-8000-000000000001/execute"));
  CHECK(consul_caches("/v1/agent/connect/ca/roots"));
  CHECK_FALSE(consul_caches("/v1/catalog/service/"));
  CHECK_FALSE(consul_caches("/v1/catalog/nodes"));
  CHECK_FALSE(consul_caches("/v1/health/node/n1"));
  CHECK_FALSE(consul_caches("/v1/kv/a"));
  CHECK_FALSE(consul_caches("/v1/query/abc/explain"));
  CHECK_FALSE(consul_caches("/v1/query//execute"));
}

TEST_CASE("?cached gets a hit of age 0 where Consul caches, nothing elsewhere") {
  http::Request req;
  req.path = "/v1/health/service/web";
  req.query = {{"cached", ""}};
  http::Response resp;
  add_agent_cache_headers(req, resp);
  REQUIRE(resp.header("X-Cache"));
  CHECK(*resp.header("X-Cache") == "HIT");
  CHECK(*resp.header("Age") == "0");

  http::Response plain;
  req.query.clear();
  add_agent_cache_headers(req, plain);
  CHECK_FALSE(plain.header("X-Cache"));

  http::Response kv;
  req.path = "/v1/kv/a";
  req.query = {{"cached", ""}};
  add_agent_cache_headers(req, kv);
  CHECK_FALSE(kv.header("X-Cache"));
}
