#include "agent/checks/alias_check.h"

#include <doctest/doctest.h>

#include <uv.h>

#include "agent/checks/check_runner.h"

using namespace cairn;
using namespace cairn::checks;

namespace {

state::Check row(const std::string& node, const std::string& id, const std::string& service,
                 const std::string& status, const std::string& output = "") {
  state::Check c;
  c.node = node;
  c.check_id = id;
  c.name = id + " name";
  c.service_id = service;
  c.service_name = service.empty() ? "" : "svc";
  c.status = status;
  c.output = output;
  return c;
}

void put_base(state::Store& store) {
  state::Node n;
  n.name = "n1";
  n.address = "127.0.0.1";
  state::Service s;
  s.node = "n1";
  s.id = "web-1";
  s.name = "svc";
  state::Batch b{state::PutNode{n}, state::PutService{s}};
  store.apply(b, store.index() + 1);
}

void put(state::Store& store, state::Check c) {
  state::Batch b{state::PutCheck{std::move(c)}};
  store.apply(b, store.index() + 1);
}

}  // namespace

TEST_CASE("mirrors the worst status of the service and its node") {
  state::Store store;
  put_base(store);
  std::string out;
  CHECK(AliasCheck::evaluate(store, "n1", "web-1", "", out) == "passing");
  CHECK(out == "No checks found.");  // the service is there, without checks
  put(store, row("n1", "c1", "web-1", "passing"));
  CHECK(AliasCheck::evaluate(store, "n1", "web-1", "", out) == "passing");
  CHECK(out == "All checks passing.");
  put(store, row("n1", "c2", "web-1", "warning", "slow"));
  CHECK(AliasCheck::evaluate(store, "n1", "web-1", "", out) == "warning");
  CHECK(out == "Aliased check \"c2 name\" failing: slow");
  put(store, row("n1", "other", "db-1", "critical"));  // another service: ignored
  CHECK(AliasCheck::evaluate(store, "n1", "web-1", "", out) == "warning");
  put(store, row("n1", "_node_maintenance", "", "critical", "maint"));  // node-level: counts
  CHECK(AliasCheck::evaluate(store, "n1", "web-1", "", out) == "critical");
  CHECK(out == "Aliased check \"_node_maintenance name\" failing: maint");
  // Its own row is skipped.
  CHECK(AliasCheck::evaluate(store, "n1", "web-1", "_node_maintenance", out) == "warning");
}

TEST_CASE("a service without checks is passing; a missing one critical") {
  state::Store store;
  put_base(store);
  std::string out;
  put(store, row("n1", "serfHealth", "", "passing"));
  CHECK(AliasCheck::evaluate(store, "n1", "web-1", "", out) == "passing");
  CHECK(AliasCheck::evaluate(store, "n1", "gone", "", out) == "critical");
  CHECK(out == "Service gone could not be found on node n1");
  CHECK(AliasCheck::evaluate(store, "n2", "web-1", "", out) == "critical");
}

TEST_CASE("reacts to every change of what it mirrors, through store watches") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  state::Store store;
  put_base(store);
  put(store, row("n1", "c1", "web-1", "passing"));
  std::vector<std::string> seen;
  {
    CheckEnv env(&loop);
    env.store = &store;
    env.node_name = "n1";
    env.sink = [&](const std::string&, std::string_view status, std::string_view) {
      seen.emplace_back(status);
    };
    state::CheckDefinition def;
    def.alias_service = "web-1";
    AliasCheck alias(env, "alias", def);
    uv_run(&loop, UV_RUN_NOWAIT);
    REQUIRE(seen == std::vector<std::string>{"passing"});
    put(store, row("n1", "c1", "web-1", "critical"));
    uv_run(&loop, UV_RUN_NOWAIT);
    REQUIRE(seen.size() == 2);
    CHECK(seen[1] == "critical");
    // The watch was re-armed: a second change is seen too.
    put(store, row("n1", "c1", "web-1", "passing"));
    uv_run(&loop, UV_RUN_NOWAIT);
    REQUIRE(seen.size() == 3);
    CHECK(seen[2] == "passing");
  }
  CHECK(store.watch_count() == 0);  // destroyed: unwatched
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}
