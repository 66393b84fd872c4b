// A client's streamed view against a server's publisher, over a real RPC on
// loopback: subscriptions per service, resuming without a snapshot, expiry.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "../rpc/test_loop.h"
#include "agent/forward/catalog_mirror.h"
#include "agent/forward/catalog_publisher.h"
#include "agent/forward/catalog_stream.h"
#include "agent/rpc/server.h"
#include "agent/state/catalog_replica.h"

using namespace cairn;
using forward::CatalogMessage;
using forward::CatalogMessageKind;
using forward::WatchRequest;

namespace {

state::Batch instance(const std::string& node, const std::string& service,
                      const std::string& status) {
  state::Service s;
  s.node = node;
  s.id = service + "-1";
  s.name = service;
  s.port = 80;
  state::Check c;
  c.node = node;
  c.check_id = service + "-check";
  c.service_id = s.id;
  c.service_name = service;
  c.status = status;
  return {state::PutService{s}, state::PutCheck{c}};
}

state::Batch node(const std::string& name, const std::string& health) {
  state::Node n;
  n.name = name;
  n.address = "10.0.0." + name.substr(1);
  state::Check c;
  c.node = name;
  c.check_id = "serfHealth";
  c.status = health;
  return {state::PutNode{n}, state::PutCheck{c}};
}

// A server's store and publisher on an RPC listener, and a client's mirror of it.
struct View {
  rpc::test::TestLoop loop;  // first: destroyed last
  state::Store server_store;
  std::unique_ptr<forward::CatalogPublisher> publisher;
  std::unique_ptr<rpc::Server> server;
  uint16_t port = 0;
  state::Store client_store;
  std::unique_ptr<forward::Forwarder> forwarder;
  std::unique_ptr<forward::CatalogMirror> mirror;
  uint64_t index = 10;

  explicit View(forward::CatalogPublisher::Limits limits = {}, uint64_t ttl_ms = 60'000) {
    state::Batch seed;
    for (const char* name : {"n1", "n2"})
      for (auto& m : node(name, state::kPassing)) seed.push_back(m);
    for (auto& m : instance("n1", "web", state::kPassing)) seed.push_back(m);
    for (auto& m : instance("n2", "db", state::kPassing)) seed.push_back(m);
    for (auto& m : instance("n2", "consul", state::kPassing)) seed.push_back(m);
    server_store.load_snapshot(seed, index);
    publisher = std::make_unique<forward::CatalogPublisher>(server_store, limits);
    server_store.set_apply_listener(
        [this](std::span<const state::Mutation> b, uint64_t i) { publisher->on_batch(b, i); });
    serve();
    forwarder = std::make_unique<forward::Forwarder>(loop.get(),
                                                     forward::Forwarder::Settings{"c1", 5000, 1});
    forwarder->set_servers({{"s1", "127.0.0.1", port, -1}});
    forward::CatalogMirror::Settings settings;
    settings.subscription_ttl_ms = ttl_ms;
    mirror =
        std::make_unique<forward::CatalogMirror>(loop.get(), *forwarder, client_store, settings);
    mirror->servers_changed();
    REQUIRE(loop.run_until([&] { return mirror->current(); }));
  }
  ~View() {
    mirror.reset();
    forwarder.reset();
    server.reset();
  }
  void serve() {
    server = std::make_unique<rpc::Server>(loop.get());
    publisher->attach(*server);
    REQUIRE(server->listen("127.0.0.1", port).ok());
    port = server->port();
  }
  void write(const state::Batch& b) { server_store.apply(b, ++index); }
  size_t client_instances(const std::string& name) const {
    return client_store.service_instances(name).size();
  }
  // Subscribes and waits until the view holds it.
  void subscribe(const std::string& name) {
    CHECK_FALSE(mirror->covers(name));
    REQUIRE(loop.run_until([&] { return mirror->covers(name); }));
  }
};

}  // namespace

TEST_CASE("a watch request round-trips, and a malformed one is refused") {
  WatchRequest r{true, 42, {{"web", true}, {"db", false}}};
  std::string wire = forward::encode_watch_request(r);
  WatchRequest back;
  REQUIRE(forward::decode_watch_request(wire, back).ok());
  CHECK(back == r);
  // Empty: the first clients' request, the whole catalog from a snapshot.
  REQUIRE(forward::decode_watch_request("", back).ok());
  CHECK(back == WatchRequest{});
  for (size_t cut = 1; cut < wire.size(); ++cut)
    CHECK_FALSE(forward::decode_watch_request(wire.substr(0, cut), back).ok());
  CHECK_FALSE(forward::decode_watch_request(wire + "x", back).ok());
  std::string lying = wire;
  lying[10] = '\x7f';  // the topic count's top byte
  CHECK_FALSE(forward::decode_watch_request(lying, back).ok());
  // Past the bounds: too many topics, or one too long.
  WatchRequest many{true, 1,
                    std::vector<WatchRequest::Topic>(forward::kMaxWatchTopics + 1, {"s", false})};
  CHECK_FALSE(forward::decode_watch_request(forward::encode_watch_request(many), back).ok());
  many.topics.resize(forward::kMaxWatchTopics);
  CHECK(forward::decode_watch_request(forward::encode_watch_request(many), back).ok());
  WatchRequest long_name{true, 1, {{std::string(forward::kMaxTopicBytes + 1, 'x'), false}}};
  CHECK_FALSE(forward::decode_watch_request(forward::encode_watch_request(long_name), back).ok());
}

TEST_CASE("a resumed message carries no rows and is not a snapshot") {
  auto msgs = forward::encode_catalog_messages(CatalogMessageKind::resumed, 7, {});
  REQUIRE(msgs.size() == 1);
  CatalogMessage m;
  REQUIRE(forward::decode_catalog_message(msgs[0], m).ok());
  CHECK(m.kind == CatalogMessageKind::resumed);
  CHECK(m.index == 7);
  CHECK(m.rows.empty());
}

TEST_CASE("a client holds the services it asked about, their nodes, and their changes only") {
  View v;
  CHECK(v.client_instances("consul") == 1);   // always held: the NS records
  CHECK(v.client_store.nodes().size() == 1);  // n2, where consul runs, with its node check
  CHECK(v.client_store.check("n2", "serfHealth") != nullptr);
  CHECK(v.client_instances("web") == 0);
  CHECK(v.mirror->snapshots() == 1);

  v.subscribe("web");
  CHECK(v.client_instances("web") == 1);
  CHECK(v.client_store.node("n1") != nullptr);  // web's node came with it
  CHECK(v.client_store.check("n1", "serfHealth") != nullptr);
  CHECK(v.client_instances("db") == 0);
  CHECK(v.mirror->snapshots() == 1);  // a new subscription is a resume, not a snapshot
  CHECK(v.mirror->resumes() == 1);

  // A change of db does not come; one of web does, and so does its delete.
  v.write(instance("n1", "db", state::kPassing));
  v.write(instance("n2", "web", state::kCritical));
  REQUIRE(v.loop.run_until([&] { return v.client_instances("web") == 2; }));
  CHECK(v.client_instances("db") == 0);
  v.write({state::DeleteService{"n1", "web-1"}, state::DeleteCheck{"n1", "web-check"}});
  REQUIRE(v.loop.run_until([&] { return v.client_instances("web") == 1; }));
  CHECK(v.client_store.check("n1", "web-check") == nullptr);
  // A node the client does not need stays away; web on a new node brings the node.
  v.write(node("n3", state::kPassing));
  v.write(instance("n4", "db", state::kPassing));
  state::Batch moved = node("n5", state::kWarning);
  for (auto& m : instance("n5", "web", state::kPassing)) moved.push_back(m);
  v.write(moved);
  REQUIRE(v.loop.run_until([&] { return v.client_instances("web") == 2; }));
  CHECK(v.client_store.node("n5") != nullptr);
  CHECK(v.client_store.check("n5", "serfHealth")->status == state::kWarning);
  CHECK(v.client_store.node("n3") == nullptr);
  // A node check of a held node comes.
  v.write(node("n5", state::kCritical));
  REQUIRE(v.loop.run_until(
      [&] { return v.client_store.check("n5", "serfHealth")->status == state::kCritical; }));
  // The view's index is the server's.
  REQUIRE(v.loop.run_until([&] { return v.client_store.index() == v.server_store.index(); }));
}

TEST_CASE("a node looked up is held with its node checks, and a node delete reaches every client") {
  View v;
  v.write(node("n3", state::kPassing));
  CHECK_FALSE(v.mirror->covers_node("n3"));
  REQUIRE(v.loop.run_until([&] { return v.mirror->covers_node("n3"); }));
  CHECK(v.client_store.node("n3") != nullptr);
  CHECK(v.mirror->held_nodes() == 1);
  v.write(node("n3", state::kCritical));
  REQUIRE(v.loop.run_until(
      [&] { return v.client_store.check("n3", "serfHealth")->status == state::kCritical; }));
  v.subscribe("web");
  v.write({state::DeleteNode{"n1"}});
  REQUIRE(v.loop.run_until([&] { return v.client_store.node("n1") == nullptr; }));
  CHECK(v.client_instances("web") == 0);
}

TEST_CASE("a client that lost its server resumes from its index: only the changes come") {
  View v;
  v.subscribe("web");
  v.server.reset();  // the stream ends; the client keeps its view
  REQUIRE(v.loop.run_until([&] { return !v.mirror->current(); }));
  CHECK(v.mirror->covers("web"));  // stale, still answered
  v.write(instance("n2", "web", state::kPassing));
  v.serve();
  REQUIRE(v.loop.run_until([&] { return v.mirror->current(); }));
  CHECK(v.client_instances("web") == 2);
  CHECK(v.mirror->snapshots() == 1);
  CHECK(v.mirror->resumes() == 2);
  CHECK(v.publisher->resumes() == 2);
}

TEST_CASE("a client whose changes are no longer kept gets a snapshot") {
  View v(forward::CatalogPublisher::Limits{2, 1 << 20});
  v.subscribe("web");
  v.server.reset();
  REQUIRE(v.loop.run_until([&] { return !v.mirror->current(); }));
  for (const char* node : {"n1", "n2", "n1"})
    v.write(instance(node, "web", node == std::string("n1") ? state::kWarning : state::kPassing));
  v.serve();
  REQUIRE(v.loop.run_until([&] { return v.mirror->current(); }));
  CHECK(v.mirror->snapshots() == 2);
  CHECK(v.client_instances("web") == 2);
  CHECK(v.client_store.check("n1", "web-check")->status == state::kWarning);
}

TEST_CASE("a service unused for its ttl leaves the view, and the server stops sending it") {
  View v({}, 200);
  v.subscribe("web");
  REQUIRE(v.loop.run_until([&] { return v.mirror->expired() == 1; }, 5000));
  CHECK(v.client_instances("web") == 0);
  CHECK(v.client_instances("consul") == 1);  // the pinned one stays
  CHECK(v.mirror->held_topics() == std::vector<std::string>{"consul"});
  CHECK(v.client_store.node("n1") == nullptr);  // web's node left with it
  // The server no longer sends web: a change of it does not come, one of consul does.
  v.write(instance("n1", "web", state::kWarning));
  v.write(instance("n1", "consul", state::kPassing));
  REQUIRE(v.loop.run_until([&] { return v.client_instances("consul") == 2; }));
  CHECK(v.client_instances("web") == 0);
  // Asked again, it comes back whole.
  v.subscribe("web");
  CHECK(v.client_instances("web") == 1);
}

TEST_CASE("a server behind the client resumes what the client holds; new topics need a snapshot") {
  View v;
  v.subscribe("web");
  uint64_t client_index = v.client_store.index();
  // Another server, two changes behind the one the client used.
  v.server.reset();
  REQUIRE(v.loop.run_until([&] { return !v.mirror->current(); }));
  state::Batch rows = state::catalog_snapshot(v.server_store);
  v.server_store = state::Store{};
  v.server_store.load_snapshot(rows, client_index - 2);
  v.index = client_index - 2;
  v.publisher = std::make_unique<forward::CatalogPublisher>(v.server_store);
  v.server_store.set_apply_listener(
      [&v](std::span<const state::Mutation> b, uint64_t i) { v.publisher->on_batch(b, i); });
  v.serve();
  REQUIRE(v.loop.run_until([&] { return v.mirror->current(); }));
  CHECK(v.publisher->resumes() == 1);
  CHECK(v.publisher->snapshots_sent() == 0);
  // What it replays up to the client's index is skipped; what follows arrives.
  v.write(instance("n1", "web", state::kWarning));
  v.write(instance("n1", "web", state::kWarning));
  CHECK(v.client_store.index() == client_index);
  v.write(instance("n2", "web", state::kPassing));
  REQUIRE(v.loop.run_until([&] { return v.client_instances("web") == 2; }));
  CHECK(v.client_store.index() == v.server_store.index());
  CHECK(v.mirror->snapshots() == 1);
}
