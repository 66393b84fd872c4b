#include "agent/config/settings_support.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "agent/config/flags.h"

using namespace cairn::config;

namespace {

Config load(const std::string& yaml) {
  Config cfg;
  merge_file(cfg, "t.yaml", yaml);
  return cfg;
}

}  // namespace

TEST_CASE("every flag and key is in the table once") {
  std::set<std::string_view> flags, keys;
  for (const auto& f : flag_classes()) CHECK_MESSAGE(flags.insert(f.name).second, f.name);
  for (const auto& k : key_classes()) CHECK_MESSAGE(keys.insert(k.name).second, k.name);
  // The parser knows exactly the table's flags.
  for (const auto& f : flag_classes()) {
    AgentFlags out;
    std::string arg = "-" + std::string(f.name) + (f.takes_value ? "=json" : "");
    std::string err = parse_agent_flags({arg}, out);
    CHECK_MESSAGE(err.find("not defined") == std::string::npos, arg);
  }
}

TEST_CASE("a plain config has nothing to warn about or refuse") {
  Config cfg = load("datacenter: east\nui: false\nacl:\n  enabled: false\n");
  CHECK(no_effect_settings(cfg).empty());
  CHECK(unsupported_settings(cfg) == "");
}

TEST_CASE("no-effect keys are named, once each, sorted") {
  Config cfg = load(
      "ui_config:\n  enabled: true\n  dir: /d\nrejoin_after_leave: true\n"
      "dns_config:\n  use_cache: true\n"
      "tls:\n  defaults:\n    tls_min_version: TLSv1_2\n"
      "disable_update_check: true\ndisable_remote_exec: false\n");
  auto names = no_effect_settings(cfg);
  CHECK(names == std::vector<std::string>{"disable_remote_exec", "dns_config.use_cache",
                                          "rejoin_after_leave", "tls.tls_min_version",
                                          "ui_config.dir", "ui_config.enabled"});
}

TEST_CASE("ACLs and TLS listeners refuse, naming the key; legacy ACL keys fail at decode") {
  CHECK(unsupported_settings(load("acl:\n  enabled: true\n  default_policy: deny\n"))
            .rfind("acl.enabled: ACLs are not built yet", 0) == 0);
  CHECK(validate(load("acl:\n  enabled: true\n")).rfind("acl.enabled:", 0) == 0);
  // An HTTPS port alone turns nothing on: no listener without cert_file and key_file.
  CHECK(unsupported_settings(load("ports:\n  https: 8501\n")) == "");
  CHECK(no_effect_settings(load("ports:\n  https: 8501\n")) ==
        std::vector<std::string>{"ports.https"});
  CHECK(unsupported_settings(load("tls:\n  internal_rpc:\n    verify_outgoing: true\n"))
            .rfind("tls.verify_outgoing:", 0) == 0);
  try {
    load("acl_default_policy: deny\n");
    FAIL("acl_default_policy was accepted");
  } catch (const cairn::DecodeError& e) {
    CHECK(e.path() == "acl_default_policy");
    CHECK(e.message().find("ACLs are not built yet") != std::string::npos);
  }
}

TEST_CASE("-config-format: json reads JSON only; hcl is HCL 1; others are refused") {
  CHECK(check_config_format("json") == "");
  CHECK(check_config_format("hcl") == "");
  CHECK(check_config_format("toml").find("must be json, yaml or hcl") != std::string::npos);
  Config cfg;
  merge_file(cfg, "x.conf", R"({"datacenter": "east"})", "json");
  CHECK(cfg.datacenter == "east");
  CHECK_THROWS_AS(merge_file(cfg, "x.conf", "datacenter: west\n", "json"), cairn::DecodeError);
  AgentFlags f;
  CHECK(parse_agent_flags({"-config-format", "hcl"}, f) == "");
  CHECK(f.config_format == "hcl");
  CHECK(parse_agent_flags({"-config-format", "toml"}, f).find("toml") != std::string::npos);
}

TEST_CASE("-retry-interval sets retry_interval; a bad duration names the flag") {
  AgentFlags f;
  REQUIRE(parse_agent_flags({"-retry-interval", "5s"}, f) == "");
  Config cfg;
  REQUIRE(apply_overrides(cfg, f) == "");
  CHECK(cfg.retry_interval == 5 * cairn::kSecond);
  AgentFlags g;
  REQUIRE(parse_agent_flags({"-retry-interval=later"}, g) == "");
  CHECK(apply_overrides(cfg, g).find("-retry-interval") != std::string::npos);
}

TEST_CASE("the config Consul's test SDK writes is accepted, naming what has no effect") {
  // sdk/testutil/server.go's JSON for a default TestServer (ports abridged).
  Config cfg;
  merge_file(cfg, "config.json", R"({
    "node_name": "node-1", "node_id": "8c7a5b9c-4f3e-4ab4-8b5e-1b2f3c4d5e6f",
    "performance": {"raft_multiplier": 1}, "bootstrap": true, "server": true,
    "data_dir": "/tmp/d", "segments": null, "disable_update_check": true, "log_level": "debug",
    "bind_addr": "127.0.0.1", "addresses": {},
    "ports": {"dns": 1, "http": 2, "https": 3, "serf_lan": 4, "serf_wan": 5, "server": 6,
              "grpc": 7, "grpc_tls": 8},
    "acl": {"tokens": {}}, "ca_file": "/tmp/ca.pem",
    "connect": {"enabled": true, "ca_config": {"cluster_id": "11111111-2222-3333-4444-555555555555"}},
    "skip_leave_on_interrupt": true, "peering": {"enabled": true},
    "raft_protocol": 3, "primary_datacenter": "dc1", "enable_debug": false, "version": "1.17.0"
  })",
             "json");
  CHECK(validate(cfg) == "");
  CHECK(cfg.skip_leave_on_interrupt == true);
  CHECK(cfg.tls.ca_file == "/tmp/ca.pem");
  CHECK(cfg.ports.grpc_tls == 8);
  CHECK(primary_datacenter(cfg) == "dc1");
  CHECK(no_effect_settings(cfg) == std::vector<std::string>{"connect", "peering", "ports.grpc",
                                                            "ports.grpc_tls", "ports.https",
                                                            "version"});
}

TEST_CASE("classified-only keys: silent when they ask for nothing, else warned or refused") {
  CHECK(no_effect_settings(load("segments: []\nenable_debug: false\nconnect: {enabled: false}\n"))
            .empty());
  CHECK(no_effect_settings(load("telemetry:\n  statsite_address: 'x:1'\nlog_file: /var/log/\n")) ==
        std::vector<std::string>{"log_file", "telemetry.statsite_address"});
  try {
    load("serf_lan_allowed_cidrs: [10.0.0.0/8]\n");
    FAIL("serf_lan_allowed_cidrs was accepted");
  } catch (const cairn::DecodeError& e) {
    CHECK(e.path() == "serf_lan_allowed_cidrs");
    CHECK(e.message().find("less safe") != std::string::npos);
  }
  try {
    load("verify_incoming_rpc: true\n");
    FAIL("legacy verify_incoming_rpc was accepted");
  } catch (const cairn::DecodeError& e) {
    CHECK(e.message().find("TLS") != std::string::npos);
  }
  CHECK_NOTHROW(load("verify_incoming: false\ncert_file: ''\n"));
  CHECK_THROWS_AS(load("surely_not_consul: 1\n"), cairn::DecodeError);
  CHECK(classified_only_key("telemetry", "disablecompat1.9") != nullptr);
  CHECK(classified_only_key("", "datacenter") == nullptr);  // implemented: decoded, not classified
}

TEST_CASE("asks_nothing: null, false, 0, empty, and containers of them") {
  auto parse = [](const char* json) {
    cairn::Value v;
    cairn::ParseError e;
    REQUIRE(cairn::parse_json(json, v, e));
    return v;
  };
  CHECK(asks_nothing(parse(R"({"a": [false, 0, ""], "b": {"c": null}})")));
  CHECK_FALSE(asks_nothing(parse(R"({"a": [false, 1]})")));
  CHECK_FALSE(asks_nothing(parse(R"("x")")));
}

TEST_CASE("raft_protocol is checked; primary_datacenter must be a datacenter name") {
  CHECK(validate(load("raft_protocol: 3\n")) == "");
  CHECK(
      validate(load("raft_protocol: 2\n")).rfind("raft_protocol: version 2 is not supported", 0) ==
      0);
  AgentFlags f;
  REQUIRE(parse_agent_flags({"-raft-protocol", "2"}, f) == "");
  Config cfg;
  REQUIRE(apply_overrides(cfg, f) == "");
  CHECK(validate(cfg).rfind("raft_protocol:", 0) == 0);
  CHECK(validate(load("primary_datacenter: 'd c'\n")).rfind("primary_datacenter:", 0) == 0);
  Config plain = load("datacenter: east\n");
  CHECK(primary_datacenter(plain) == "east");
}

TEST_CASE("addresses and unix_sockets decode and are checked where read") {
  Config cfg = load(
      "addresses:\n  http: unix:///run/cairn/http.sock 127.0.0.1\n  dns: 127.0.0.2\n"
      "  grpc: 0.0.0.0\nunix_sockets:\n  mode: '0770'\n  user: '0'\n");
  CHECK(cfg.addresses.http == "unix:///run/cairn/http.sock 127.0.0.1");
  CHECK(cfg.addresses.dns == "127.0.0.2");
  CHECK(cfg.unix_sockets.mode == 0770u);
  CHECK(cfg.unix_sockets.user == "0");
  CHECK(no_effect_settings(cfg) == std::vector<std::string>{"addresses.grpc"});
  try {
    load("addresses:\n  dns: unix:///run/d.sock\n");
    FAIL("a unix socket for DNS was accepted");
  } catch (const cairn::DecodeError& e) {
    CHECK(format_decode_error(e).find("t.yaml:2: addresses.dns: ") == 0);
  }
  CHECK_THROWS_AS(load("unix_sockets:\n  mode: rwx\n"), cairn::DecodeError);
}

TEST_CASE("Consul's other agent flags: implemented, warned, or refused with the reason") {
  AgentFlags f;
  REQUIRE(parse_agent_flags({"-pid-file", "/run/c.pid", "-log-file=/var/log/c", "-syslog",
                             "-grpc-port", "8502", "-retry-interval-wan", "3s"},
                            f) == "");
  Config cfg;
  REQUIRE(apply_overrides(cfg, f) == "");
  CHECK(cfg.pid_file == "/run/c.pid");
  CHECK(cfg.retry_interval_wan == 3 * cairn::kSecond);
  CHECK(no_effect_settings(cfg) ==
        std::vector<std::string>{"enable_syslog", "log_file", "ports.grpc"});
  AgentFlags g;
  std::string err = parse_agent_flags({"-serf-lan-bind", "10.0.0.1"}, g);
  CHECK(err.rfind("-serf-lan-bind: ", 0) == 0);
  CHECK(err.find("less safe") != std::string::npos);
}

TEST_CASE("-hcl merges a fragment after the files; its errors name the flag") {
  AgentFlags f;
  REQUIRE(parse_agent_flags({"-hcl", "datacenter = \"east\"", "-hcl=enable_debug = true"}, f) ==
          "");
  Config cfg;
  REQUIRE(apply_overrides(cfg, f) == "");
  CHECK(cfg.datacenter == "east");
  CHECK(no_effect_settings(cfg) == std::vector<std::string>{"enable_debug"});
  AgentFlags g;
  REQUIRE(parse_agent_flags({"-hcl", "no_such_key = 1"}, g) == "");
  CHECK(apply_overrides(cfg, g).rfind("-hcl:1: no_such_key", 0) == 0);
}
