#include "agent/local/anti_entropy.h"

#include <doctest/doctest.h>

using namespace cairn;
using namespace cairn::local;

namespace {

NodeIdentity ident() {
  NodeIdentity n;
  n.id = "8c3c3f2b-6d5e-4f1a-9b7c-1d2e3f4a5b6c";
  n.name = "n1";
  n.address = "127.0.0.1";
  n.datacenter = "dc1";
  return n;
}

LocalService svc(const std::string& id, std::vector<std::string> tags = {}) {
  LocalService s;
  s.service.id = id;
  s.service.name = id;
  s.service.tags = std::move(tags);
  return s;
}

LocalCheck check(const std::string& id, const std::string& service_id) {
  LocalCheck c;
  c.check.check_id = id;
  c.check.name = id;
  c.check.service_id = service_id;
  c.check.status = state::kPassing;
  c.check.type = "ttl";
  return c;
}

size_t sync(state::Store& store, const LocalState& local) {
  state::Batch b;
  REQUIRE(plan_sync(store, ident(), local, b) == "");
  if (!b.empty()) store.apply(b, store.index() + 1);
  return b.size();
}

}  // namespace

TEST_CASE("anti-entropy creates, then converges to no changes") {
  state::Store store;
  LocalState local("n1");
  local.put_service(svc("web"));
  local.put_check(check("c1", "web"));
  CHECK(sync(store, local) == 3);  // node, service, check
  CHECK(sync(store, local) == 0);
  CHECK(store.check("n1", "c1")->service_name == "web");
}

TEST_CASE("anti-entropy deletes what the agent no longer has, except leader-owned rows") {
  state::Store store;
  LocalState local("n1");
  local.put_service(svc("web"));
  sync(store, local);
  state::Check serf;
  serf.node = "n1";
  serf.check_id = "serfHealth";
  serf.status = state::kPassing;
  state::Service consul;
  consul.node = "n1";
  consul.id = consul.name = "consul";
  store.apply(std::vector<state::Mutation>{state::PutCheck{serf}, state::PutService{consul}},
              store.index() + 1);
  local.remove_service("web");
  sync(store, local);
  CHECK(store.service("n1", "web") == nullptr);
  CHECK(store.service("n1", "consul") != nullptr);
  CHECK(store.check("n1", "serfHealth") != nullptr);
}

TEST_CASE("EnableTagOverride keeps tags changed in the catalog") {
  state::Store store;
  LocalState local("n1");
  LocalService s = svc("web", {"local"});
  s.service.enable_tag_override = true;
  local.put_service(s);
  sync(store, local);
  state::Service changed = *store.service("n1", "web");
  changed.tags = {"edited"};
  store.apply(std::vector<state::Mutation>{state::PutService{changed}}, store.index() + 1);
  CHECK(sync(store, local) == 0);
  CHECK(store.service("n1", "web")->tags == std::vector<std::string>{"edited"});
}

TEST_CASE("a status change syncs only the check") {
  state::Store store;
  LocalState local("n1");
  local.put_service(svc("web"));
  local.put_check(check("c1", "web"));
  sync(store, local);
  uint64_t svc_index = store.service("n1", "web")->raft.modify_index;
  CHECK(local.update_check("c1", state::kCritical, "down"));
  CHECK_FALSE(local.update_check("c1", state::kCritical, "down"));
  CHECK(sync(store, local) == 1);
  CHECK(store.check("n1", "c1")->status == state::kCritical);
  CHECK(store.service("n1", "web")->raft.modify_index == svc_index);
}

TEST_CASE("a full sync leaves the catalog's output of a check whose output is deferred") {
  state::Store store;
  LocalState local("n1");
  local.put_service(svc("web"));
  local.put_check(check("c1", "web"));
  local.put_check(check("c2", "web"));
  sync(store, local);
  local.update_check("c1", state::kPassing, "new output");
  local.update_check("c2", state::kPassing, "new output");
  OutputDeferred c1_waits = [](const std::string& id) { return id == "c1"; };
  state::Batch b;
  REQUIRE(plan_sync(store, ident(), local, b, c1_waits) == "");
  REQUIRE(b.size() == 1);  // only c2's output
  store.apply(b, store.index() + 1);
  CHECK(store.check("n1", "c1")->output == "");
  CHECK(store.check("n1", "c2")->output == "new output");
  // Once nothing waits, the output follows.
  CHECK(sync(store, local) == 1);
  CHECK(store.check("n1", "c1")->output == "new output");
  // Any other difference sends the whole row, output included, as Consul's sync does.
  local.update_check("c1", state::kCritical, "newer");
  b.clear();
  REQUIRE(plan_sync(store, ident(), local, b, c1_waits) == "");
  REQUIRE(b.size() == 1);
  store.apply(b, store.index() + 1);
  CHECK(store.check("n1", "c1")->status == state::kCritical);
  CHECK(store.check("n1", "c1")->output == "newer");
}

TEST_CASE("check updates change only status and output of checks the catalog holds") {
  state::Store store;
  LocalState local("n1");
  local.put_service(svc("web", {"t"}));
  local.put_check(check("c1", "web"));
  sync(store, local);
  state::Check serf;
  serf.node = "n1";
  serf.check_id = "serfHealth";
  serf.status = state::kPassing;
  store.apply(std::vector<state::Mutation>{state::PutCheck{serf}}, store.index() + 1);

  state::Batch b;
  CHECK(plan_check_updates(
      store, "n1", {{"c1", state::kWarning, "slow"}, {"serfHealth", state::kCritical, "x"}}, b));
  REQUIRE(b.size() == 1);  // the leader's serfHealth is not the client's to set
  store.apply(b, store.index() + 1);
  const state::Check* c1 = store.check("n1", "c1");
  CHECK(c1->status == state::kWarning);
  CHECK(c1->output == "slow");
  CHECK(c1->service_name == "web");
  CHECK(c1->service_tags == std::vector<std::string>{"t"});
  CHECK(store.check("n1", "serfHealth")->status == state::kPassing);
  // The same result again writes nothing.
  b.clear();
  CHECK(plan_check_updates(store, "n1", {{"c1", state::kWarning, "slow"}}, b));
  CHECK(b.empty());
  // A check or node the catalog lacks: nothing is written, a full sync is needed.
  CHECK_FALSE(
      plan_check_updates(store, "n1", {{"c1", state::kPassing, ""}, {"nope", "passing", ""}}, b));
  CHECK(b.empty());
  CHECK_FALSE(plan_check_updates(store, "n2", {{"c1", state::kPassing, ""}}, b));
  CHECK(b.empty());
}

TEST_CASE("a local registration under a leader-owned ID never replaces the leader's row") {
  state::Store store;
  LocalState local("n1");
  sync(store, local);
  state::Check serf;
  serf.node = "n1";
  serf.check_id = serf.name = "serfHealth";
  serf.status = state::kPassing;
  state::Service consul;
  consul.node = "n1";
  consul.id = consul.name = "consul";
  consul.port = 8300;
  store.apply(std::vector<state::Mutation>{state::PutCheck{serf}, state::PutService{consul}},
              store.index() + 1);
  LocalCheck mine = check("serfHealth", "");
  mine.check.status = state::kCritical;
  local.put_check(mine);
  LocalService fake = svc("consul");
  fake.service.port = 1;
  local.put_service(fake);
  CHECK(sync(store, local) == 0);
  CHECK(store.check("n1", "serfHealth")->status == state::kPassing);
  CHECK(store.service("n1", "consul")->port == 8300);
  state::Batch b;
  CHECK(plan_sync_check(store, ident(), local, "serfHealth", b));
  CHECK(b.empty());
}
