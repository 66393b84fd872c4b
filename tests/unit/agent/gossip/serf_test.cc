// Serf messages (reference vectors), Vivaldi (reference vector) and a small
// simulated Serf pool: intents, member states, tags, user events, reaping.
#include "agent/gossip/serf.h"

#include <doctest/doctest.h>

#include <map>

#include "agent/gossip/sim/sim_network.h"
#include "agent/gossip/sim/sim_world.h"
#include "tests/unit/agent/gossip/test_util.h"

using namespace cairn::gossip;
using namespace cairn::gossip::sim;
using cairn::gossip::test::hex;
using cairn::gossip::test::unhex;

TEST_CASE("serf messages encode like Go") {
  std::string out = "\x08";
  encode(SerfJoin{5, "node-a"}, out);
  CHECK(hex(out) == "080182a54c54696d6505a44e6f6465a66e6f64652d61");
  out = "\x08";
  encode(SerfLeave{6, "node-a", false}, out);
  CHECK(hex(out) == "080083a54c54696d6506a44e6f6465a66e6f64652d61a55072756e65c2");
  out = "\x08";
  encode(SerfUserEvent{1, "deploy", "v1", false}, out);
  CHECK(hex(out) == "080384a24343c2a54c54696d6501a44e616d65a66465706c6f79a75061796c6f6164a27631");
  out = "\x08";
  SerfQuery q;
  q.ltime = 2;
  q.id = 12345;
  const std::string ip = unhex("7f000001");
  q.addr = ip;
  q.port = 7946;
  q.source_node = "node-a";
  q.flags = 1;
  q.timeout_ns = 2'000'000'000;
  q.name = "_serf_ping";
  encode(q, out);
  CHECK(hex(out) ==
        "08048ba441646472a47f000001a746696c74657273c0a5466c61677301a24944cd3039a54c54696d6502a44e61"
        "6d65aa5f736572665f70696e67a75061796c6f6164c0a4506f7274cd1f0aab52656c6179466163746f7200aa53"
        "6f757263654e6f6465a66e6f64652d61a754696d656f7574ce77359400");
  out = "\x08";
  encode(SerfQueryResponse{2, 12345, "node-b", 1, {}}, out);
  CHECK(hex(out) ==
        "080585a5466c61677301a446726f6da66e6f64652d62a24944cd3039a54c54696d6502a75061796c6f6164c0");
  CHECK(hex(encode_tags({{"role", "node"}})) == "ff81a4726f6c65a46e6f6465");
}

TEST_CASE("serf decoders read Go's forms, including v2 signed integers") {
  MsgpackReader r;
  const std::string v2 = unhex(
      "8ba441646472a47f000001a746696c74657273c0a5466c61677301a24944cd3039a54c54696d6502a44e616d65aa"
      "5f736572665f70696e67a75061796c6f6164c0a4506f7274cd1f0aab52656c6179466163746f7200aa536f757263"
      "654e6f6465a66e6f64652d61a754696d656f7574d277359400");
  SerfQuery q;
  REQUIRE(decode(as_bytes(v2), r, q));
  CHECK(q.timeout_ns == 2'000'000'000);
  CHECK(q.id == 12345);
  CHECK(q.name == "_serf_ping");
  CHECK(q.source_node == "node-a");
  const std::string pp = unhex(
      "86aa4576656e744c54696d6501a64576656e7473c0a54c54696d6507ab4c6566744d656d6265727390aa517565"
      "72794c54696d6501ac5374617475734c54696d657381a66e6f64652d6105");
  SerfPushPull p;
  REQUIRE(decode(as_bytes(pp), r, p));
  CHECK(p.ltime == 7);
  REQUIRE(p.status_ltimes.size() == 1);
  CHECK(p.status_ltimes[0].first == "node-a");
  CHECK(p.status_ltimes[0].second == 5);
  Tags t = decode_tags(unhex("ff81a4726f6c65a46e6f6465"));
  CHECK(t == Tags{{"role", "node"}});
  CHECK(decode_tags("web") == Tags{{"role", "web"}});  // pre-tags Serf
}

TEST_CASE("ack payload carries the coordinate like Serf") {
  const Coordinate c = Coordinate::fresh(CoordinateConfig{});
  std::string out(1, '\x01');
  c.encode(out);
  CHECK(hex(out) ==
        "0184aa41646a7573746d656e74cb0000000000000000a54572726f72cb3ff8000000000000a6486569676874cb"
        "3ee4f8b588e368f1a356656398cb0000000000000000cb0000000000000000cb0000000000000000cb00000000"
        "00000000cb0000000000000000cb0000000000000000cb0000000000000000cb0000000000000000");
  MsgpackReader r;
  Coordinate back;
  size_t off = 0;
  REQUIRE(back.decode(as_bytes(out).subspan(1), off, r));
  CHECK(back.error == 1.5);
  CHECK(back.height == 1e-5);
  CHECK(back.vec.size() == 8);
}

TEST_CASE("Vivaldi follows serf/coordinate (reference vector)") {
  CoordinateConfig cfg;
  VivaldiClient client(cfg);
  Coordinate start = Coordinate::fresh(cfg);
  start.vec[0] = 0.001;
  client.set_coordinate(start);
  Coordinate other = Coordinate::fresh(cfg);
  other.vec[1] = 0.002;
  other.error = 0.5;
  other.height = 0.0001;
  CHECK(start.distance(other).count() == 2346067);

  struct Step {
    int rtt_ms;
    double v0, v1, err, adj, height;
  };
  const Step steps[] = {
      {5, 0.0012225389656235562, -0.00044507806493006849, 1.3182724875, 5.3296007244820615e-05,
       3.4479292234324203e-05},
      {7, 0.0015531415560584684, -0.0011062834924295839, 1.184938260266805, 0.00013720160193961354,
       7.0845588280500638e-05},
      {3, 0.0016489883778009874, -0.0012979773943833804, 1.0194744405571006, 0.0001654856103817214,
       8.1388750303271879e-05},
      {6, 0.0017964547709304879, -0.0015929105114091135, 0.90343076725051707,
       0.00021012045434407159, 9.761006843201988e-05},
  };
  for (const auto& s : steps) {
    REQUIRE(client.update("other", other, std::chrono::milliseconds(s.rtt_ms)));
    const Coordinate& c = client.coordinate();
    CHECK(c.vec[0] == doctest::Approx(s.v0).epsilon(1e-9));
    CHECK(c.vec[1] == doctest::Approx(s.v1).epsilon(1e-9));
    CHECK(c.error == doctest::Approx(s.err).epsilon(1e-9));
    CHECK(c.adjustment == doctest::Approx(s.adj).epsilon(1e-9));
    CHECK(c.height == doctest::Approx(s.height).epsilon(1e-9));
    for (size_t i = 2; i < 8; ++i) CHECK(c.vec[i] == 0.0);
  }
  CHECK(client.coordinate().distance(other).count() == 4424726);
  CHECK_FALSE(client.update("other", other, std::chrono::seconds(11)));

  Coordinate a = Coordinate::fresh(cfg), b = Coordinate::fresh(cfg);
  a.vec[0] = 0.003;
  b.vec[0] = -0.001;
  a.height = 0.0002;
  b.height = 0.0003;
  a.adjustment = -0.0001;
  b.adjustment = 0.00005;
  CHECK(a.distance(b).count() == 4449999);
  a.adjustment = -0.01;
  CHECK(a.distance(b).count() == 4500000);
}

namespace {

struct Pool {
  SimWorld world;
  SimNetwork net{world, SimNetConfig{}, 9};
  struct Node {
    std::unique_ptr<SimClock> clock;
    std::unique_ptr<Transport> transport;
    std::unique_ptr<Serf> serf;
    std::vector<SerfEvent> events;
  };
  std::vector<Node> nodes;
  std::shared_ptr<Interner> names = std::make_shared<Interner>();

  explicit Pool(size_t n) : nodes(n) {}
  Address addr(size_t i) const { return Address{0x0a000001u + uint32_t(i), 8301}; }
  void start(size_t i, std::vector<size_t> seeds, SerfConfig sc = {}) {
    Node& n = nodes[i];
    n.serf.reset();
    n.clock = std::make_unique<SimClock>(world);
    n.transport = net.transport_for(addr(i));
    MemberlistConfig mc = MemberlistConfig::local();
    mc.advertise = addr(i);
    mc.seed = 100 + i * 13 + nodes.size();
    sc.node_name = "s" + std::to_string(i);
    if (sc.tags.empty()) sc.tags = {{"role", "node"}, {"dc", "dc1"}};
    n.serf = std::make_unique<Serf>(sc, mc, *n.clock, *n.transport, nullptr, names);
    n.serf->set_event_handler([&n](const SerfEvent& ev) { n.events.push_back(ev); });
    net.attach(addr(i), &n.serf->packet_handler());
    n.serf->start();
    std::vector<Address> a;
    for (size_t s : seeds) a.push_back(addr(s));
    if (!a.empty()) n.serf->join(a, false, [](int, const std::string&) {});
  }
  void kill(size_t i) {
    net.detach(addr(i));
    nodes[i].serf.reset();
    nodes[i].transport.reset();
    nodes[i].clock.reset();
  }
  void run(Duration d) { world.run_until(world.now() + d); }
  MemberStatus status(size_t obs, size_t subj) {
    Member m;
    return nodes[obs].serf->member("s" + std::to_string(subj), m) ? m.status : MemberStatus::none;
  }
  int count(size_t obs, SerfEvent::Kind k, const std::string& who = "") {
    int c = 0;
    for (const auto& e : nodes[obs].events)
      if (e.kind == k && (who.empty() || e.member.name == who || e.name == who)) ++c;
    return c;
  }
};

}  // namespace

TEST_CASE("a Serf pool: tags, user events, update, leave, failure, force-leave, reap") {
  Pool p(6);
  SerfConfig fast;
  fast.reap_interval = 1s;
  fast.reconnect_timeout = 20s;
  fast.tombstone_timeout = 20s;
  fast.leave_propagate_delay = 200ms;
  for (size_t i = 0; i < 6; ++i) {
    fast.tags = {{"role", i == 0 ? "consul" : "node"}, {"dc", "dc1"}};
    p.start(i, i ? std::vector<size_t>{0} : std::vector<size_t>{}, fast);
  }
  p.run(5s);
  for (size_t o = 0; o < 6; ++o) {
    CHECK(p.nodes[o].serf->members().size() == 6);
    for (size_t s = 0; s < 6; ++s) CHECK(p.status(o, s) == MemberStatus::alive);
  }
  Member m;
  REQUIRE(p.nodes[3].serf->member("s0", m));
  CHECK(m.tags.at("role") == "consul");
  CHECK(m.vsn == Vsn{1, 5, 2, 2, 5, 4});

  // User event: delivered once everywhere (including the sender).
  std::string err;
  REQUIRE(p.nodes[2].serf->user_event("deploy", "v1", false, err));
  // The Local profile sends each broadcast only twice at this size; a node
  // that missed it gets it with the next push/pull (event ring in the state).
  p.run(20s);
  for (size_t o = 0; o < 6; ++o) CHECK(p.count(o, SerfEvent::Kind::user, "deploy") == 1);
  CHECK_FALSE(p.nodes[2].serf->user_event("big", std::string(600, 'x'), false, err));

  // Tags change: an update event elsewhere.
  REQUIRE(p.nodes[4].serf->set_tags({{"role", "node"}, {"dc", "dc1"}, {"rack", "r2"}}, err));
  p.run(3s);
  REQUIRE(p.nodes[1].serf->member("s4", m));
  CHECK(m.tags.at("rack") == "r2");
  CHECK(p.count(1, SerfEvent::Kind::member_update, "s4") >= 1);

  // Graceful leave: left (not failed) everywhere.
  bool left = false;
  p.nodes[5].serf->leave([&](bool ok) { left = ok; });
  p.run(4s);
  CHECK(left);
  for (size_t o = 0; o < 5; ++o) CHECK(p.status(o, 5) == MemberStatus::left);
  p.kill(5);

  // Crash: failed everywhere; force-leave turns it into left.
  p.kill(3);
  p.run(15s);
  for (size_t o : {0, 1, 2, 4}) CHECK(p.status(o, 3) == MemberStatus::failed);
  REQUIRE(p.nodes[0].serf->remove_failed("s3", false));
  p.run(3s);
  for (size_t o : {0, 1, 2, 4}) CHECK(p.status(o, 3) == MemberStatus::left);

  // Reaped after the tombstone timeout.
  p.run(30s);
  for (size_t o : {0, 1, 2, 4}) {
    CHECK(p.status(o, 3) == MemberStatus::none);
    CHECK(p.count(o, SerfEvent::Kind::member_reap, "s3") == 1);
  }
  // Coordinates were learned from probes.
  Coordinate c;
  CHECK(p.nodes[0].serf->cached_coordinate("s1", c));
}

TEST_CASE("Serf reconnects to failed members after a partition heals") {
  Pool p(8);
  SerfConfig sc;
  sc.reconnect_interval = 5s;
  for (size_t i = 0; i < 8; ++i) p.start(i, i ? std::vector<size_t>{0} : std::vector<size_t>{}, sc);
  p.run(5s);
  for (size_t i = 4; i < 8; ++i) p.net.set_group(p.addr(i), 1);
  p.run(30s);
  CHECK(p.status(0, 6) == MemberStatus::failed);
  CHECK(p.status(6, 0) == MemberStatus::failed);
  p.net.heal();
  p.run(60s);
  for (size_t o = 0; o < 8; ++o)
    for (size_t s = 0; s < 8; ++s) CHECK(p.status(o, s) == MemberStatus::alive);
}

TEST_CASE("queries: the _serf_ping ack and an application response come back") {
  Pool p(3);
  for (size_t i = 0; i < 3; ++i) p.start(i, i ? std::vector<size_t>{0} : std::vector<size_t>{});
  p.run(3s);
  // Node 1 answers application queries with its name.
  int delivered = 0;
  p.nodes[1].serf->set_event_handler([&p, &delivered](const SerfEvent& ev) {
    if (ev.kind != SerfEvent::Kind::query) return;
    ++delivered;
    CHECK(ev.name == "app-query");
    std::string err;
    CHECK(p.nodes[1].serf->respond(ev.query_id, "pong-from-s1", err));
    CHECK_FALSE(p.nodes[1].serf->respond(ev.query_id, "again", err));  // once only
  });
  // Send a query from node 0 as raw bytes through node 2's handler path:
  // build it like Serf would and hand it to node 1 directly.
  std::string raw = "\x08";
  SerfQuery q;
  q.ltime = 50;
  q.id = 777;
  const auto b = p.addr(0).ip_bytes();
  const std::string addr(reinterpret_cast<const char*>(b.data()), 4);
  q.addr = addr;
  q.port = 8301;
  q.source_node = "s0";
  q.flags = kQueryFlagAck;
  q.timeout_ns = 5'000'000'000;
  q.name = "app-query";
  encode(q, raw);
  p.nodes[1].serf->packet_handler().on_packet(p.addr(0), as_bytes(raw), p.world.now());
  p.run(1s);
  // Node 0 has no collector registered for id 777; this checks the answer
  // path does not fail and the query was delivered once even if repeated.
  p.nodes[1].serf->packet_handler().on_packet(p.addr(0), as_bytes(raw), p.world.now());
  p.run(1s);
  CHECK(delivered == 1);  // deduplicated by (LTime, ID)
}

TEST_CASE("user events reach every member once") {
  Pool p(4);
  for (size_t i = 0; i < 4; ++i) p.start(i, i ? std::vector<size_t>{0} : std::vector<size_t>{});
  p.run(5s);
  std::string err;
  REQUIRE(p.nodes[2].serf->user_event("deploy", "v1", false, err));
  CHECK(p.count(2, SerfEvent::Kind::user, "deploy") == 1);
  p.run(3s);
  for (size_t o = 0; o < 4; ++o) CHECK(p.count(o, SerfEvent::Kind::user, "deploy") == 1);
}
