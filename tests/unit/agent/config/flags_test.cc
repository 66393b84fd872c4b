#include "agent/config/flags.h"

#include <doctest/doctest.h>

using namespace cairn::config;

TEST_CASE("flags accept both -flag value and -flag=value, flags win over files") {
  AgentFlags f;
  REQUIRE(parse_agent_flags({"-dev", "-config-dir", "d1", "--config-dir=d2", "-http-port=9500",
                             "-node", "n1", "-datacenter", "east", "-recursor", "1.1.1.1"},
                            f) == "");
  CHECK(f.dev);
  CHECK(f.config_dirs == std::vector<std::string>{"d1", "d2"});
  Config cfg;
  cfg.datacenter = "from-file";
  REQUIRE(apply_overrides(cfg, f) == "");
  CHECK(cfg.ports.http == 9500);
  CHECK(cfg.node_name == "n1");
  CHECK(cfg.datacenter == "east");
  CHECK(cfg.recursors == std::vector<std::string>{"1.1.1.1"});
}

TEST_CASE("flag errors name the flag") {
  AgentFlags f;
  CHECK(parse_agent_flags({"-nope"}, f) == "flag provided but not defined: -nope");
  CHECK(parse_agent_flags({"-node"}, f) == "flag needs an argument: -node");
  CHECK(parse_agent_flags({"stray"}, f).find("unexpected argument") == 0);
  AgentFlags g;
  REQUIRE(parse_agent_flags({"-http-port", "80x"}, g) == "");
  Config cfg;
  CHECK(apply_overrides(cfg, g).find("-http-port") != std::string::npos);
}
