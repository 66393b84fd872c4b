// LocalAgent on its own: built from a loop, a config, an identity and a
// catalog writer, with no Agent around it.
#include "agent/local_agent.h"

#include <doctest/doctest.h>
#include <uv.h>

#include <string>

namespace cairn {
namespace {

struct LocalAgentFixture {
  uv_loop_t loop{};
  config::Config cfg;
  local::NodeIdentity identity;
  state::Store store;
  server::DevWriter writer{store, [] { return int64_t{1'700'000'000'000}; }};

  LocalAgentFixture() {
    uv_loop_init(&loop);
    cfg.node_name = "node-a";  // no data_dir: nothing is persisted
    identity.name = "node-a";
    identity.address = "127.0.0.1";
    identity.datacenter = "dc1";
  }
  ~LocalAgentFixture() {
    uv_run(&loop, UV_RUN_DEFAULT);  // close callbacks of the agent's handles
    uv_loop_close(&loop);
  }
};

config::ServiceDefinition web_service() {
  config::ServiceDefinition def;
  def.service.id = "web-1";
  def.service.name = "web";
  def.service.port = 8080;
  return def;
}

}  // namespace

TEST_CASE("LocalAgent registers, maintains and deregisters through the catalog writer") {
  LocalAgentFixture f;
  {
    LocalAgent agent(&f.loop, f.cfg, f.identity, f.writer, f.store);
    REQUIRE(agent.load() == "");

    OpResult registered = OpResult::error(0, "not answered");
    agent.register_service(web_service(), local::Source::api, false,
                           [&](OpResult r) { registered = r; });
    CHECK(registered.ok());
    CHECK(agent.state().service("web-1") != nullptr);
    const state::Service* row = f.store.service("node-a", "web-1");
    REQUIRE(row != nullptr);
    CHECK(row->port == 8080);

    OpResult maint = OpResult::error(0, "not answered");
    agent.node_maintenance(true, "", [&](OpResult r) { maint = r; });
    CHECK(maint.ok());
    const state::Check* check = f.store.check("node-a", "_node_maintenance");
    REQUIRE(check != nullptr);
    CHECK(check->status == state::kCritical);

    OpResult ttl = agent.ttl_update("no-such-check", "passing", "");
    CHECK(ttl.status == 500);
    CHECK(ttl.message == "CheckID \"no-such-check\" does not have associated TTL");

    OpResult gone = OpResult::error(0, "not answered");
    agent.deregister_service("web-1", [&](OpResult r) { gone = r; });
    CHECK(gone.ok());
    CHECK(f.store.service("node-a", "web-1") == nullptr);

    OpResult unknown;
    agent.deregister_service("web-1", [&](OpResult r) { unknown = r; });
    CHECK(unknown.status == 404);
    agent.shutdown();
  }
}

}  // namespace cairn
