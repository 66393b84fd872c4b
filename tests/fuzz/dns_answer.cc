// Drives raw packets through the DNS answer path: parsing, the name grammar,
// lookups against a small catalog, answer building, trimming and writing.
// Every response must decode with ldns (an independent parser), echo the ID,
// be a response, and fit its transport. The first input byte picks the
// transport and a settings variant; the rest is the packet.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "agent/dns/answer.h"
#include "agent/state/store.h"
#include "common/dns/ldns.h"

using namespace cairn;

namespace {

state::Store* make_store() {
  auto* st = new state::Store;
  state::Batch b;
  auto node = [&](const char* name, const char* addr, std::map<std::string, std::string> meta) {
    state::Node n;
    n.name = name;
    n.address = addr;
    n.datacenter = "dc1";
    n.meta = std::move(meta);
    b.push_back(state::PutNode{n});
  };
  auto svc = [&](const char* node, const char* id, const char* name, int port, const char* addr,
                 std::vector<std::string> tags) {
    state::Service s;
    s.node = node;
    s.id = id;
    s.name = name;
    s.port = port;
    s.address = addr;
    s.tags = std::move(tags);
    b.push_back(state::PutService{s});
  };
  auto check = [&](const char* node, const char* id, const char* status, const char* sid,
                   const char* sname) {
    state::Check c;
    c.node = node;
    c.check_id = id;
    c.status = status;
    c.service_id = sid;
    c.service_name = sname;
    b.push_back(state::PutCheck{c});
  };
  node("web-01", "10.0.0.5", {{"rack", "r1"}, {"rfc1035-x", std::string(300, 'x')}});
  node("web-02", "10.0.0.6", {});
  node("db-01", "2001:db8::1", {{"a=b", " c "}});
  node("ext", "ext.example.com", {});
  svc("web-01", "web1", "web", 80, "", {"v1", "primary"});
  svc("web-02", "web2", "web", 81, "10.0.0.7", {"v2"});
  svc("db-01", "db1", "db", 5432, "", {});
  svc("ext", "e1", "ext", 443, "api.example.com", {});
  svc("web-01", "consul", "consul", 8300, "", {});
  for (int i = 0; i < 60; ++i) {
    std::string n = "big-" + std::to_string(i);
    state::Node nn;
    nn.name = n;
    nn.address = "10.1.0." + std::to_string(i + 1);
    nn.meta = {{"zone", "z" + std::to_string(i)}};
    b.push_back(state::PutNode{nn});
    state::Service s;
    s.node = n;
    s.id = "big";
    s.name = "big";
    s.port = 1000 + i;
    b.push_back(state::PutService{s});
  }
  check("web-02", "c", "warning", "web2", "web");
  check("db-01", "_node_maintenance", "critical", "", "");
  state::PreparedQuery q;
  q.id = "11111111-2222-4333-8444-555555555555";
  q.name = "geo-";
  q.tmpl.type = state::kTemplateNamePrefixMatch;
  q.tmpl.regexp = "^geo-(.*)$";
  q.service.service = "${match(1)}";
  q.service.near = "_ip";
  b.push_back(state::PutPreparedQuery{q});
  // A template whose regexp makes a backtracking engine explode on long hex names.
  state::PreparedQuery hex = q;
  hex.id = "11111111-2222-4333-8444-666666666666";
  hex.name = "hex-";
  hex.tmpl.regexp = "^hex-([0-9a-f]|[0-9a-f])*z";
  hex.service.service = "web";
  hex.service.tags = {"${match(1)}"};
  hex.tmpl.remove_empty_tags = true;
  b.push_back(state::PutPreparedQuery{hex});
  st->apply(b, 1);
  return st;
}

struct World {
  state::Store* store = make_store();
  dns::AnswerBuilder builders[4] = {dns::AnswerBuilder(1), dns::AnswerBuilder(2),
                                    dns::AnswerBuilder(3), dns::AnswerBuilder(4)};
  std::vector<uint8_t> out = std::vector<uint8_t>(dns::kMaxMessage);
  World() {
    for (int v = 0; v < 4; ++v) {
      config::Config cfg;
      cfg.alt_domain = "cairn.example";
      cfg.node_name = "web-01";
      cfg.dns_config.enable_truncate = v & 1;
      cfg.dns_config.disable_compression = v & 2;
      cfg.dns_config.only_passing = v == 3;
      if (v == 2) cfg.recursors = {"127.0.0.1"};
      dns::Settings s;
      if (!dns::make_settings(cfg, s).empty()) std::abort();
      builders[v].set_settings(s);
    }
  }
};

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World w;
  if (size < 1) return 0;
  uint8_t mode = data[0];
  std::span<const uint8_t> packet(data + 1, size - 1);
  dns::Transport transport = (mode & 1) ? dns::Transport::tcp : dns::Transport::udp;
  dns::AnswerBuilder& b = w.builders[(mode >> 1) & 3];
  dns::IpAddr client;
  client.len = 4;
  client.bytes[0] = 10;
  client.bytes[3] = mode;

  dns::Outcome o = b.answer(packet, transport, client, *w.store, 1700000000, w.out);
  if (o.action == dns::Outcome::Action::recurse) {
    size_t n = b.recursion_failed(packet, w.out);
    check(n > 0, "a recursed query gets a SERVFAIL");
    o.size = n;
  } else if (o.action == dns::Outcome::Action::drop) {
    return 0;
  }
  check(o.size >= dns::kHeaderSize && o.size <= dns::kMaxMessage, "response size");
  const uint8_t* r = w.out.data();
  check(r[0] == packet[0] && r[1] == packet[1], "ID echoed");
  check(r[2] & 0x80, "QR set");

  ldns_pkt* pkt = nullptr;
  ldns_status st = ldns_wire2pkt(&pkt, r, o.size);
  if (st != LDNS_STATUS_OK) {
    std::fprintf(stderr, "ldns cannot parse the response: %s\n", ldns_get_errorstr_by_id(st));
    std::abort();
  }
  size_t answers = ldns_pkt_ancount(pkt);
  const dns::Query& q = b.query();
  if (transport == dns::Transport::udp && answers > 1) {
    size_t limit = 512;
    if (q.has_edns && q.edns_udp_size > 512) limit = std::min<size_t>(q.edns_udp_size, 65467);
    check(o.size <= limit, "UDP answer fits the client's size");
  }
  ldns_pkt_free(pkt);
  return 0;
}
