#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "common/dns/name.h"
#include "common/files.h"
#include "dnsfwd/config.h"
#include "dnsfwd/resolv_conf.h"
#include "dnsfwd/setup_resolv.h"
#include "dnsfwd/upstream_source.h"

using namespace cairn;
using namespace cairn::dnsfwd;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/dnsfwd-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string write(const std::string& rel, const std::string& text) const {
    std::string full = path + "/" + rel;
    std::string err;
    make_dirs(full.substr(0, full.rfind('/')), 0755, err);
    std::ofstream(full) << text;
    return full;
  }
  std::string read(const std::string& rel) const {
    std::string text, err;
    read_file(path + "/" + rel, text, err);
    return text;
  }
};

Config load_text(const std::string& yaml) {
  TempDir d;
  std::string f = d.write("dnsfwd.yaml", yaml);
  Config c;
  std::string err;
  REQUIRE_MESSAGE(load_config(f, c, err), err);
  return c;
}

std::string load_error(const std::string& yaml) {
  TempDir d;
  std::string f = d.write("dnsfwd.yaml", yaml);
  Config c;
  std::string err;
  CHECK_FALSE(load_config(f, c, err));
  return err.substr(err.rfind('/') + 1);  // drop the temp directory
}

}  // namespace

TEST_CASE("defaults: loopback listeners, consul route to the agent, upstream files") {
  Config c = default_config();
  REQUIRE(c.listen.size() == 2);
  CHECK(c.listen[0].endpoint.to_string() == "127.0.0.1:53");
  CHECK(c.listen[1].endpoint.to_string() == "[::1]:53");
  REQUIRE(c.groups.size() == 2);
  CHECK(c.groups[0].server_files.front() == "/etc/cairn/resolv.upstream");
  CHECK(c.groups[1].servers[0].to_string() == "127.0.0.1:8600");
  CHECK(c.groups[1].cache.min_ttl == 0);
  CHECK(c.groups[1].cache.negative_max_ttl == 5);
  REQUIRE(c.routes.size() == 1);
  CHECK(c.routes[0].group == 1);
  CHECK(c.metrics->to_string() == "127.0.0.1:8653");
  CHECK(load_text("").routes.size() == 1);
}

TEST_CASE("a full config decodes") {
  Config c = load_text(R"(
listen: ["127.0.0.1:5300"]
allow_networks: [172.17.0.0/16]
metrics_addr: 127.0.0.1:9999
upstreams:
  servers: [10.0.0.2, "10.0.0.3:5353"]
  policy: round_robin
  timeout: {initial: 300ms, min: 20ms, max: 2s, total: 3s}
  attempts: 4
  health: {max_fails: 3, probe_interval: 2s, probe_name: example.com, probe_type: SOA}
  max_qps: 900
  cache: {min_ttl: 10, max_ttl: 1h, negative_max_ttl: 300, serve_stale: false}
routes:
  - domains: [consul, cairn.internal]
    reverse: [10.0.0.0/8]
    servers: ["127.0.0.1:8600"]
    agent: true
  - domain: corp.example
    servers: [192.0.2.53]
    policy: fastest
cache:
  max_entries: 50000
  max_bytes: 32MiB
  prefetch: {enabled: true, min_hits: 5}
limits:
  max_udp_size: 4096
  tcp_idle_timeout: 5s
)");
  CHECK(c.listen.size() == 1);
  CHECK(c.allow_networks.size() == 1);
  CHECK(c.metrics->port() == 9999);
  const Group& g = c.groups[0];
  CHECK(g.servers.size() == 2);
  CHECK(g.servers[1].port() == 5353);
  CHECK(g.policy == Policy::round_robin);
  CHECK(g.timeouts.initial_ms == 300);
  CHECK(g.timeouts.min_ms == 20);
  CHECK(g.timeouts.max_ms == 2000);
  CHECK(g.timeouts.attempts == 4);
  CHECK(g.health.max_fails == 3);
  CHECK(g.health.probe_type == 6);
  CHECK(g.max_qps == 900);
  CHECK(g.cache.min_ttl == 10);
  CHECK(g.cache.max_ttl == 3600);
  CHECK_FALSE(g.cache.serve_stale);
  REQUIRE(c.groups.size() == 3);
  CHECK(c.groups[1].cache.negative_max_ttl == 5);  // agent defaults
  CHECK(c.groups[2].policy == Policy::fastest);
  CHECK(c.groups[2].cache.negative_max_ttl == 3600);
  REQUIRE(c.routes.size() == 4);
  CHECK(c.routes[2].text == "10.in-addr.arpa.");
  CHECK(c.routes[3].group == 2);
  CHECK(c.cache.max_entries == 50000);
  CHECK(c.cache.max_bytes == 32u << 20);
  CHECK(c.cache.prefetch.enabled);
  CHECK(c.cache.prefetch.min_hits == 5);
  CHECK(c.limits.max_udp_size == 4096);
  CHECK(c.limits.tcp_idle_timeout_ms == 5000);
}

TEST_CASE("errors name file, line and field") {
  CHECK(load_error("listen: [127.0.0.1:53]\nupstreams:\n  policy: fastes\n") ==
        "dnsfwd.yaml:3: upstreams.policy: unknown policy \"fastes\" (sequential, round_robin, "
        "random, fastest)");
  CHECK(load_error("cache:\n  max_entires: 5\n") ==
        "dnsfwd.yaml:2: cache.max_entires: unknown field");
  CHECK(load_error("upstreams: [not-an-ip]\n").find("invalid address \"not-an-ip\"") !=
        std::string::npos);
  CHECK(load_error("routes:\n  - domain: consul\n").find("a route needs servers") !=
        std::string::npos);
  CHECK(load_error("routes:\n  - domain: a\n    servers: [1.2.3.4]\n  - domain: A.\n    servers: "
                   "[1.2.3.5]\n")
            .find("routed twice") != std::string::npos);
  CHECK(load_error("upstreams:\n  timeout: {min: 2s, max: 1s}\n").find("min is larger than max") !=
        std::string::npos);
  CHECK(load_error("listen: [\n").find("dnsfwd.yaml:") == 0);
  CHECK(load_error("limits: {max_udp_size: 100}\n").find("between 512 and 4096") !=
        std::string::npos);
}

TEST_CASE("resolv.conf parsing keeps everything but nameservers") {
  auto rc = parse_resolv_conf(
      "# comment\nnameserver 10.0.0.2\nsearch corp.example\n  nameserver 10.0.0.3 # two\n"
      "options ndots:2 timeout:1\nnameserver 127.0.0.1#5353\n; semicolon comment\n");
  REQUIRE(rc.nameservers.size() == 3);
  CHECK(rc.nameservers[1] == "10.0.0.3");
  CHECK(rc.nameservers[2] == "127.0.0.1#5353");
  REQUIRE(rc.other_lines.size() == 2);
  CHECK(rc.other_lines[0] == "search corp.example");
  CHECK(rc.other_lines[1] == "options ndots:2 timeout:1");
  CHECK_FALSE(rc.has_marker);
}

TEST_CASE("upstream files: first usable file wins, loops are dropped") {
  TempDir d;
  std::vector<Endpoint> own = {*parse_endpoint("127.0.0.1:53", 53)};
  std::string resolv =
      d.write("resolv.conf", "nameserver 127.0.0.1\nnameserver 127.0.0.53\nnameserver 10.0.0.2\n");
  std::string upstream =
      d.write("resolv.upstream", "nameserver 127.0.0.1\nnameserver 127.0.0.1:5353\n");
  UpstreamFiles out;
  std::string err;
  REQUIRE(read_upstream_files({d.path + "/missing", upstream, resolv}, own, out, err));
  CHECK(out.file == upstream);
  REQUIRE(out.servers.size() == 1);
  CHECK(out.servers[0].to_string() == "127.0.0.1:5353");
  CHECK(out.skipped.size() == 1);

  REQUIRE(read_upstream_files({resolv}, own, out, err));
  REQUIRE(out.servers.size() == 1);
  CHECK(out.servers[0].to_string() == "10.0.0.2:53");

  std::string only_us = d.write("only-us.conf", "nameserver 127.0.0.1\n");
  CHECK_FALSE(read_upstream_files({only_us, d.path + "/nope"}, own, out, err));
  CHECK(err.find("no usable nameserver") != std::string::npos);
}

TEST_CASE("setup-resolv: setup, idempotence, undo") {
  TempDir root;
  std::string original =
      "# from DHCP\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch corp.example\noptions edns0\n";
  root.write("etc/resolv.conf", original);
  root.write("etc/dhcp/dhclient.conf", "request subnet-mask;\n");
  SetupResolvOptions o;
  o.root = root.path;
  auto r = setup_resolv(o);
  CHECK(r.exit_code == 0);
  std::string now = root.read("etc/resolv.conf");
  CHECK(now.find("nameserver 127.0.0.1\n") != std::string::npos);
  CHECK(now.find("10.0.0.2") == std::string::npos);
  CHECK(now.find("search corp.example\n") != std::string::npos);
  CHECK(now.find("options edns0\n") != std::string::npos);
  auto up = parse_resolv_conf(root.read("etc/cairn/resolv.upstream"));
  REQUIRE(up.nameservers.size() == 2);
  CHECK(up.nameservers[0] == "10.0.0.2");
  CHECK(root.read("etc/cairn/resolv.conf.orig") == original);
  bool advised = false;
  for (auto& l : r.lines)
    advised |= l.find("prepend domain-name-servers 127.0.0.1;") != std::string::npos;
  CHECK(advised);

  auto again = setup_resolv(o);
  CHECK(again.exit_code == 0);
  CHECK(root.read("etc/resolv.conf") == now);
  CHECK(root.read("etc/cairn/resolv.conf.orig") == original);
  CHECK(parse_resolv_conf(root.read("etc/cairn/resolv.upstream")).nameservers.size() == 2);

  o.undo = true;
  CHECK(setup_resolv(o).exit_code == 0);
  CHECK(root.read("etc/resolv.conf") == original);
  CHECK_FALSE(file_exists(root.path + "/etc/cairn/resolv.conf.orig"));
  CHECK_FALSE(file_exists(root.path + "/etc/cairn/resolv.upstream"));
  auto nothing = setup_resolv(o);
  CHECK(nothing.exit_code == 0);
}

TEST_CASE("setup-resolv behind the systemd-resolved stub") {
  TempDir root;
  root.write("run/systemd/resolve/stub-resolv.conf",
             "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n");
  root.write("run/systemd/resolve/resolv.conf", "nameserver 192.0.2.1\n");
  std::string stub = root.path + "/run/systemd/resolve/stub-resolv.conf";
  std::string err;
  make_dirs(root.path + "/etc", 0755, err);
  REQUIRE(symlink(stub.c_str(), (root.path + "/etc/resolv.conf").c_str()) == 0);
  SetupResolvOptions o;
  o.root = root.path;
  auto r = setup_resolv(o);
  REQUIRE(r.exit_code == 0);
  bool mentions = false;
  for (auto& l : r.lines) mentions |= l.find("systemd-resolved") != std::string::npos;
  CHECK(mentions);
  CHECK(parse_resolv_conf(root.read("etc/cairn/resolv.upstream")).nameservers ==
        std::vector<std::string>{"192.0.2.1"});
  o.undo = true;
  REQUIRE(setup_resolv(o).exit_code == 0);
  char buf[512] = {};
  REQUIRE(readlink((root.path + "/etc/resolv.conf").c_str(), buf, sizeof buf - 1) > 0);
  CHECK(std::string(buf) == stub);
}

TEST_CASE("setup-resolv refuses when there is nothing to forward to") {
  TempDir root;
  root.write("etc/resolv.conf", "nameserver 127.0.0.1\n");
  SetupResolvOptions o;
  o.root = root.path;
  auto r = setup_resolv(o);
  CHECK(r.exit_code == 1);
  CHECK(root.read("etc/resolv.conf") == "nameserver 127.0.0.1\n");
}

TEST_CASE("packaging/etc/dnsfwd.yaml decodes to the defaults it documents") {
  Config c;
  std::string err;
  REQUIRE_MESSAGE(load_config(std::string(CAIRN_SOURCE_ROOT) + "/packaging/etc/dnsfwd.yaml", c, err),
                  err);
  Config d = default_config();
  CHECK(c.listen.size() == d.listen.size());
  CHECK(c.metrics->to_string() == d.metrics->to_string());
  REQUIRE(c.groups.size() == d.groups.size());
  for (size_t i = 0; i < c.groups.size(); ++i) {
    const Group& a = c.groups[i];
    const Group& b = d.groups[i];
    CHECK(a.name == b.name);
    CHECK(a.policy == b.policy);
    CHECK(a.timeouts.initial_ms == b.timeouts.initial_ms);
    CHECK(a.timeouts.min_ms == b.timeouts.min_ms);
    CHECK(a.timeouts.max_ms == b.timeouts.max_ms);
    CHECK(a.timeouts.total_ms == b.timeouts.total_ms);
    CHECK(a.health.max_fails == b.health.max_fails);
    CHECK(a.health.probe_name == b.health.probe_name);
    CHECK(a.health.probe_type == b.health.probe_type);
    CHECK(a.cache.max_ttl == b.cache.max_ttl);
    CHECK(a.cache.negative_max_ttl == b.cache.negative_max_ttl);
    CHECK(a.cache.servfail_ttl == b.cache.servfail_ttl);
    CHECK(a.max_pending == b.max_pending);
    CHECK(a.server_files == b.server_files);
  }
  CHECK(c.routes.size() == d.routes.size());
  CHECK(c.cache.max_entries == d.cache.max_entries);
  CHECK(c.cache.max_bytes == d.cache.max_bytes);
  CHECK(c.cache.stale_answer_timeout_ms == d.cache.stale_answer_timeout_ms);
  CHECK(c.limits.max_udp_size == d.limits.max_udp_size);
  CHECK(c.limits.tcp_idle_timeout_ms == d.limits.tcp_idle_timeout_ms);
  CHECK(c.upstream_poll_ms == d.upstream_poll_ms);
}
