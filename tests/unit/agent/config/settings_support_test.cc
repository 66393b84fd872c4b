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
  CHECK(unsupported_settings(load("ports:\n  https: 8501\n")).rfind("ports.https:", 0) == 0);
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
