#include "agent/config/service_definition.h"

#include <doctest/doctest.h>

#include "agent/config/config.h"
#include "agent/config/encode_definition.h"
#include "common/json_writer.h"

using namespace cairn;
using namespace cairn::config;

namespace {

ServiceDefinition from_json(const std::string& text) {
  Value v;
  ParseError err;
  REQUIRE(parse_json(text, v, err));
  Decoder d("", false);
  return decode_service(d, v);
}

}  // namespace

TEST_CASE("PascalCase and snake_case keys decode the same") {
  auto a = from_json(R"({"Name":"web","EnableTagOverride":true,"Check":{"TTL":"10s","DeregisterCriticalServiceAfter":"90m"}})");
  auto b = from_json(R"({"name":"web","enable_tag_override":true,"check":{"ttl":"10s","deregister_critical_service_after":"90m"}})");
  CHECK(a.service.enable_tag_override);
  CHECK(b.service.enable_tag_override);
  REQUIRE(a.checks.size() == 1);
  REQUIRE(b.checks.size() == 1);
  CHECK(a.checks[0].def == b.checks[0].def);
  CHECK(a.checks[0].def->deregister_critical_service_after == 90 * kMinute);
}

TEST_CASE("validation defaults IDs the way Consul does") {
  auto one = from_json(R"({"Name":"web","Check":{"TTL":"10s"}})");
  REQUIRE(validate_service(one) == "");
  CHECK(one.service.id == "web");
  CHECK(one.checks[0].id == "service:web");
  CHECK(one.checks[0].name == "Service 'web' check");

  auto many = from_json(R"({"Name":"web","ID":"w1","Checks":[{"TTL":"10s"},{"TTL":"20s"}]})");
  REQUIRE(validate_service(many) == "");
  CHECK(many.checks[0].id == "service:w1:1");
  CHECK(many.checks[1].id == "service:w1:2");
  CHECK(many.checks[1].service_id == "w1");
}

TEST_CASE("validation names the offending field") {
  auto no_name = from_json(R"({"Port":80})");
  CHECK(validate_service(no_name) == "Missing service name");
  auto bad_meta = from_json(R"({"Name":"x","Meta":{"consul-x":"1"}})");
  CHECK(validate_service(bad_meta).find("reserved") != std::string::npos);
  auto two_kinds = from_json(R"({"Name":"x","Check":{"TTL":"1s","TCP":"a:1","Interval":"1s"}})");
  CHECK(validate_service(two_kinds).find("only one of") != std::string::npos);
  auto no_interval = from_json(R"({"Name":"x","Check":{"TCP":"a:1"}})");
  CHECK(validate_service(no_interval).find("Interval") != std::string::npos);
  auto bad_url = from_json(R"({"Name":"x","Check":{"HTTP":"ftp://a","Interval":"1s"}})");
  CHECK(validate_service(bad_url).find("HTTP") != std::string::npos);
}

TEST_CASE("check types follow Consul's names") {
  auto type_of = [](auto set) {
    state::CheckDefinition def;
    set(def);
    CheckSpec c;
    c.def = std::move(def);
    return c.type();
  };
  CHECK(type_of([](state::CheckDefinition& d) { d.ttl = kSecond; }) == "ttl");
  CHECK(type_of([](state::CheckDefinition& d) { d.args = {"/bin/true"}; }) == "script");
  CHECK(type_of([](state::CheckDefinition& d) { d.alias_service = "web"; }) == "alias");
  CHECK(type_of([](state::CheckDefinition& d) { d.grpc = "127.0.0.1:1"; }) == "grpc");
}

TEST_CASE("a definition written for persistence decodes back to itself") {
  auto def = from_json(R"({"Name":"web","ID":"w","Tags":["a"],"Port":8080,"Meta":{"k":"v"},
    "TaggedAddresses":{"lan":{"Address":"10.0.0.1","Port":80}},"Weights":{"Passing":5,"Warning":2},
    "Checks":[{"CheckID":"c1","Name":"n","HTTP":"http://x/","Interval":"10s","Timeout":"2s",
               "Header":{"A":["b"]},"SuccessBeforePassing":2}]})");
  REQUIRE(validate_service(def) == "");
  std::string out;
  JsonWriter w(out);
  write_service_definition(w, def);
  auto back = from_json(out);
  REQUIRE(validate_service(back) == "");
  CHECK(back.service.same_content(def.service));
  REQUIRE(back.checks.size() == 1);
  CHECK(back.checks[0].def == def.checks[0].def);
  CHECK(back.checks[0].id == "c1");
}

TEST_CASE("config files merge in order and reject unknown keys with file and line") {
  Config cfg;
  merge_file(cfg, "a.yaml", "datacenter: east\nretry_join: [a]\nservice:\n  name: web\n");
  merge_file(cfg, "b.json", R"({"retry_join": ["b"], "node_meta": {"rack": "r1"}, "services": [{"name": "db"}]})");
  CHECK(cfg.datacenter == "east");
  CHECK(cfg.retry_join == std::vector<std::string>{"a", "b"});
  CHECK(cfg.services.size() == 2);
  CHECK(cfg.node_meta.at("rack") == "r1");
  try {
    merge_file(cfg, "c.yaml", "datacenter: x\nports:\n  htpp: 1\n");
    FAIL("expected an error");
  } catch (const DecodeError& e) {
    CHECK(format_decode_error(e) == "c.yaml:3: ports.htpp: unknown field");
  }
  try {
    merge_file(cfg, "d.yaml", "dns_config:\n  udp_answer_limit: many\n");
    FAIL("expected an error");
  } catch (const DecodeError& e) {
    CHECK(format_decode_error(e).find("d.yaml:2: dns_config.udp_answer_limit") == 0);
  }
  try {
    merge_file(cfg, "e.yaml", "service: [unclosed\n");
    FAIL("expected an error");
  } catch (const DecodeError& e) {
    CHECK(e.file() == "e.yaml");
    CHECK(e.line() > 0);
  }
}

TEST_CASE("duplicate service IDs across files are refused") {
  Config cfg;
  merge_file(cfg, "a.yaml", "service:\n  name: web\n");
  merge_file(cfg, "b.yaml", "service:\n  name: web\n");
  CHECK(validate(cfg).find("already defined in a.yaml") != std::string::npos);
}

TEST_CASE("service definitions are bounded wherever they come from (issue 12)") {
  std::string tags;
  for (int i = 0; i < 100'000; ++i) tags += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  auto many_tags = from_json(R"({"Name":"web","Tags":[)" + tags + "]}");
  CHECK(validate_service(many_tags) == "Tags: 100000 tags are too many, max: 1024");
  CHECK(check_definition_limits(many_tags)->limit == "tags");

  std::string checks;
  for (int i = 0; i < 300; ++i) checks += std::string(i ? "," : "") + R"({"TTL":"10s"})";
  auto many_checks = from_json(R"({"Name":"web","Checks":[)" + checks + "]}");
  CHECK(validate_service(many_checks) ==
        "Checks: 300 checks in one registration are too many, max: 256");

  // A service ID at the limit keeps its derived check IDs ("service:<id>"), which are longer.
  auto at_limit =
      from_json(R"({"Name":"web","ID":")" + std::string(1024, 'i') + R"(","Check":{"TTL":"10s"}})");
  CHECK(validate_service(at_limit) == "");
  auto over = from_json(R"({"Name":"web","ID":")" + std::string(1025, 'i') + R"("})");
  CHECK(validate_service(over) == "ID: 1025 bytes is too long, max size: 1024 bytes");

  CheckSpec standalone;
  standalone.name = "c";
  standalone.id = std::string(1025, 'c');
  CHECK(validate_check(standalone, true) ==
        "CheckID: 1025 bytes is too long, max size: 1024 bytes");
}

TEST_CASE("weights: Consul's ValidateWeights words; an HTTP body's missing weight is 0") {
  // Agent registrations refuse what Consul's agent endpoint refuses.
  auto zero = from_json(R"({"Name":"x","Weights":{"Passing":0,"Warning":0}})");
  CHECK(validate_service(zero) == "Invalid Weights: Passing must be greater than 0");
  auto negative = from_json(R"({"Name":"x","Weights":{"Passing":1,"Warning":-1}})");
  CHECK(validate_service(negative) == "Invalid Weights: Warning must be greater or equal than 0");
  auto huge = from_json(R"({"Name":"x","Weights":{"Passing":70000}})");
  CHECK(validate_service(huge) == "Invalid Weights: DNS Weight must be between 0 and 65535");
  // Go decodes {"Passing": 3} into a struct: Warning is 0.
  auto partial = from_json(R"({"Name":"x","Weights":{"Passing":3}})");
  REQUIRE(validate_service(partial) == "");
  CHECK(partial.service.weights == state::Weights{3, 0});
  auto null_weights = from_json(R"({"Name":"x","Weights":null})");
  REQUIRE(validate_service(null_weights) == "");
  CHECK(null_weights.service.weights == state::Weights{1, 1});
  // Config files: Consul's builder defaults each missing weight to 1.
  Config cfg;
  merge_file(cfg, "w.yaml", "service:\n  name: w\n  weights:\n    passing: 3\n");
  CHECK(cfg.services.at(0).service.weights == state::Weights{3, 1});
  try {
    merge_file(cfg, "z.yaml", "service:\n  name: z\n  weights: {passing: 0}\n");
    FAIL("Passing 0 was accepted");
  } catch (const DecodeError& e) {
    CHECK(e.message() == "Invalid Weights: Passing must be greater than 0");
  }
}

TEST_CASE("a service's Locality is read from JSON and files, and persisted") {
  auto def = from_json(R"({"Name":"web","Locality":{"Region":"us-east-1","Zone":"us-east-1a"}})");
  CHECK(def.service.locality.region == "us-east-1");
  CHECK(def.service.locality.zone == "us-east-1a");
  auto snake = from_json(R"({"name":"web","locality":{"region":"eu"}})");
  CHECK(snake.service.locality == state::Locality{"eu", ""});
  CHECK(from_json(R"({"Name":"web","Locality":null})").service.locality.empty());

  std::string out;
  JsonWriter w(out);
  write_service_definition(w, def);
  CHECK(from_json(out).service.locality == def.service.locality);

  // In a config file (strict) an unknown key inside it is an error, as elsewhere.
  Value v;
  ParseError err;
  REQUIRE(parse_json(R"({"name":"web","locality":{"regoin":"eu"}})", v, err));
  Decoder strict("web.json", true);
  CHECK_THROWS_AS(decode_service(strict, v), DecodeError);
}
