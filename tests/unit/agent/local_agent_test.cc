// LocalAgent on its own: built from a loop, a config, an identity and a
// catalog writer, with no Agent around it.
#include "agent/local_agent.h"

#include <doctest/doctest.h>
#include <uv.h>

#include <functional>
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

config::CheckSpec ttl_check(const std::string& id) {
  config::CheckSpec spec;
  spec.id = spec.name = id;
  state::CheckDefinition def;
  def.ttl = 300 * kSecond;
  spec.def = def;
  return spec;
}

// Runs the loop until done() or 2 s of loop time pass; the agent's own timers
// do not keep the loop alive (unref), so a ticking timer of the test does.
bool run_until(uv_loop_t* loop, const std::function<bool()>& done) {
  struct Wait {
    const std::function<bool()>* done;
    uint64_t deadline;
    bool met = false;
  } wait{&done, uv_now(loop) + 2000};
  uv_timer_t tick;
  uv_timer_init(loop, &tick);
  tick.data = &wait;
  uv_timer_start(
      &tick,
      [](uv_timer_t* t) {
        auto* w = static_cast<Wait*>(t->data);
        w->met = (*w->done)();
        if (w->met || uv_now(t->loop) >= w->deadline) uv_stop(t->loop);
      },
      1, 1);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
  return wait.met;
}

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

TEST_CASE("LocalAgent syncs a status change at once and defers an output-only change") {
  LocalAgentFixture f;
  f.cfg.check_update_interval = 40 * kMillisecond;  // output waits 20 to 60 ms
  {
    LocalAgent agent(&f.loop, f.cfg, f.identity, f.writer, f.store);
    REQUIRE(agent.load() == "");
    agent.register_check(ttl_check("job"), local::Source::api, [](OpResult r) { CHECK(r.ok()); });
    auto catalog = [&] { return *f.store.check("node-a", "job"); };
    REQUIRE(agent.ttl_update("job", state::kPassing, "first").ok());
    CHECK(catalog().status == state::kPassing);
    CHECK(catalog().output == "first");

    REQUIRE(agent.ttl_update("job", state::kPassing, "second").ok());
    CHECK(agent.state().check("job")->check.output == "second");
    CHECK(catalog().output == "first");
    CHECK(agent.output_deferred("job"));
    // A full pass meanwhile leaves the catalog's output alone.
    agent.sync_catalog();
    CHECK(catalog().output == "first");
    REQUIRE(agent.ttl_update("job", state::kPassing, "third").ok());
    CHECK(run_until(&f.loop, [&] { return catalog().output == "third"; }));
    CHECK_FALSE(agent.output_deferred("job"));

    // A status change goes out at once with its output, and ends a pending deferral.
    REQUIRE(agent.ttl_update("job", state::kPassing, "fourth").ok());
    CHECK(agent.output_deferred("job"));
    REQUIRE(agent.ttl_update("job", state::kWarning, "slow").ok());
    CHECK(catalog().status == state::kWarning);
    CHECK(catalog().output == "slow");
    CHECK_FALSE(agent.output_deferred("job"));
    agent.shutdown();
  }
}

TEST_CASE("LocalAgent with check_update_interval 0 syncs every output change") {
  LocalAgentFixture f;
  f.cfg.check_update_interval = 0;
  {
    LocalAgent agent(&f.loop, f.cfg, f.identity, f.writer, f.store);
    REQUIRE(agent.load() == "");
    agent.register_check(ttl_check("job"), local::Source::api, [](OpResult r) { CHECK(r.ok()); });
    REQUIRE(agent.ttl_update("job", state::kPassing, "first").ok());
    REQUIRE(agent.ttl_update("job", state::kPassing, "second").ok());
    CHECK(f.store.check("node-a", "job")->output == "second");
    CHECK_FALSE(agent.output_deferred("job"));
    agent.shutdown();
  }
}

}  // namespace cairn
