#include "agent/config/etcd_ports.h"

#include <doctest/doctest.h>

#include <string>

#include "agent/config/config.h"
#include "agent/config/flags.h"

using namespace cairn;
using namespace cairn::config;

namespace {

Config load_ports_config(const std::string& contents, const std::string& path = "t.yaml") {
  Config cfg;
  merge_file(cfg, path, contents, path.ends_with(".json") ? "json" : "");
  return cfg;
}

Config server(const std::string& yaml = "") {
  Config cfg = yaml.empty() ? Config{} : load_ports_config(yaml);
  cfg.server = true;
  return cfg;
}

std::string decode_error(const std::string& yaml) {
  try {
    load_ports_config(yaml, "bad.yaml");
  } catch (const DecodeError& e) {
    return format_decode_error(e);
  }
  return "";
}

}  // namespace

TEST_CASE("etcd ports default to peer 8380 and a unix socket for clients of etcd") {
  Config cfg;
  CHECK(cfg.ports.etcd_peer == 8380);
  CHECK(cfg.ports.etcd_client == 0);
  CHECK(validate_etcd_ports(cfg).ok());
  CHECK(validate_etcd_ports(server()).ok());
  CHECK(validate(server()) == "");
}

TEST_CASE("etcd ports decode from YAML and Consul JSON, beside the other ports") {
  Config y = load_ports_config("ports:\n  http: 8501\n  etcd_peer: 9380\n  etcd_client: 9379\n");
  CHECK(y.ports.http == 8501);
  CHECK(y.ports.etcd_peer == 9380);
  CHECK(y.ports.etcd_client == 9379);
  Config j =
      load_ports_config(R"({"ports": {"etcd_peer": 18380, "etcd_client": 0, "serf_lan": 18301}})", "c.json");
  CHECK(j.ports.etcd_peer == 18380);
  CHECK(j.ports.etcd_client == 0);
  CHECK(j.ports.serf_lan == 18301);
  // Later files win, as for every scalar.
  merge_file(j, "d.yaml", "ports:\n  etcd_peer: 28380\n");
  CHECK(j.ports.etcd_peer == 28380);
  CHECK(j.ports.serf_lan == 18301);
}

TEST_CASE("etcd ports out of range are refused at decode, naming file and key") {
  std::string e = decode_error("ports:\n  etcd_peer: 0\n");
  CHECK_MESSAGE(e.find("bad.yaml") == 0, e);
  CHECK_MESSAGE(e.find("etcd_peer") != std::string::npos, e);
  CHECK_MESSAGE(e.find("1..65535") != std::string::npos, e);
  CHECK(decode_error("ports:\n  etcd_peer: 65536\n").find("etcd_peer") != std::string::npos);
  CHECK(decode_error("ports:\n  etcd_peer: -2\n").find("etcd_peer") != std::string::npos);
  CHECK(decode_error("ports:\n  etcd_client: -1\n").find("etcd_client") != std::string::npos);
  CHECK(decode_error("ports:\n  etcd_client: 70000\n").find("etcd_client") != std::string::npos);
  CHECK(decode_error("ports:\n  etcd_client: unix\n").find("etcd_client") != std::string::npos);
  // A config built in code is held to the same range.
  Config cfg;
  cfg.ports.etcd_peer = 0;
  CHECK(validate_etcd_ports(cfg).code == PortsStatus::Code::out_of_range);
  cfg.ports.etcd_peer = 8380;
  cfg.ports.etcd_client = -1;
  CHECK(validate_etcd_ports(cfg).code == PortsStatus::Code::out_of_range);
}

TEST_CASE("etcd_peer -1 is a client's choice only") {
  Config client = load_ports_config("ports:\n  etcd_peer: -1\n");
  CHECK(validate_etcd_ports(client).ok());
  Config srv = server("ports:\n  etcd_peer: -1\n");
  PortsStatus s = validate_etcd_ports(srv);
  CHECK(s.code == PortsStatus::Code::etcd_peer_disabled);
  CHECK_MESSAGE(s.message.rfind("ports.etcd_peer: -1 is not allowed on a server", 0) == 0,
                s.message);
  CHECK(validate(srv) == s.message);
}

TEST_CASE("on a server the etcd peer port clashes with none of the agent's other ports") {
  const char* others[] = {"http", "dns", "serf_lan", "serf_wan", "server", "etcd_client"};
  for (const char* other : others) {
    CAPTURE(other);
    Config cfg = server(std::string("ports:\n  etcd_peer: 9999\n  ") + other + ": 9999\n");
    PortsStatus s = validate_etcd_ports(cfg);
    CHECK(s.code == PortsStatus::Code::clash);
    CHECK_MESSAGE(
        s.message.rfind("ports.etcd_peer: 9999 is also ports." + std::string(other), 0) == 0,
        s.message);
    CHECK(validate(cfg) == s.message);
    // A client runs no etcd: the same ports are not its concern.
    cfg.server = false;
    CHECK(validate_etcd_ports(cfg).ok());
  }
  // The default peer port on another agent port's default is caught too.
  Config moved = server("ports:\n  http: 8380\n");
  CHECK(validate_etcd_ports(moved).message.find("ports.http") != std::string::npos);
  // Disabled ports (-1) clash with nothing.
  Config off = server("ports:\n  dns: -1\n  etcd_peer: 8600\n");
  CHECK(validate_etcd_ports(off).ok());
}

TEST_CASE("a TCP etcd client port is checked like the peer port; -dev runs no etcd") {
  Config cfg = server("ports:\n  etcd_client: 8301\n");
  PortsStatus s = validate_etcd_ports(cfg);
  CHECK(s.code == PortsStatus::Code::clash);
  CHECK_MESSAGE(s.message.rfind("ports.etcd_client: 8301 is also ports.serf_lan", 0) == 0,
                s.message);
  CHECK(validate_etcd_ports(server("ports:\n  etcd_client: 2379\n")).ok());

  Config dev;
  apply_dev_defaults(dev);
  merge_file(dev, "dev.yaml", "ports:\n  etcd_peer: 8500\n");
  CHECK(dev.server);
  CHECK(validate_etcd_ports(dev).ok());
}
