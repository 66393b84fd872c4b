#include "agent/config/hcl.h"

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "agent/config/config.h"
#include "common/decode.h"

using namespace cairn;
using namespace cairn::config;

namespace {

Value hcl_tree(const std::string& text) {
  Value v;
  ParseError err;
  bool parsed = parse_hcl(text, v, err);
  std::string where =
      std::to_string(err.line) + ":" + std::to_string(err.column) + ": " + err.message;
  REQUIRE_MESSAGE(parsed, where);
  REQUIRE(v.is_object());
  return v;
}

ParseError hcl_error(const std::string& text, const ParseLimits& limits = ParseLimits{}) {
  Value v;
  ParseError err;
  CHECK_FALSE(parse_hcl(text, v, err, limits));
  return err;
}

Config load_hcl(const std::string& text) {
  Config cfg;
  merge_file(cfg, "t.hcl", text);
  return cfg;
}

// "t.hcl:LINE: path: message" of the DecodeError the text raises.
std::string hcl_decode_error(const std::string& text) {
  try {
    load_hcl(text);
  } catch (const DecodeError& e) {
    return format_decode_error(e);
  }
  return "(no error)";
}

struct HclTempDir {
  std::string path;
  HclTempDir() {
    char tmpl[] = "/tmp/hcl-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~HclTempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path + "/" + name) << text;
    return path + "/" + name;
  }
};

}  // namespace

// Consul's documentation: an agent configuration file.
TEST_CASE("HCL agent config decodes as its YAML equivalent would") {
  Config cfg = load_hcl(R"(
datacenter = "east-aws"
data_dir = "/opt/consul"
log_level = "INFO"
node_name = "foobar"
server = true
bootstrap_expect = 3
retry_join = ["10.0.0.1", "10.0.0.2",]
retry_interval = "15s"
encrypt = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="
ports {
  http = 8501
  dns  = 8601
}
node_meta = {
  instance_type = "t2.medium"
}
dns_config {
  service_ttl {
    "*" = "5s"
  }
}
)");
  CHECK(cfg.datacenter == "east-aws");
  CHECK(cfg.data_dir == "/opt/consul");
  CHECK(cfg.log_level == "INFO");
  CHECK(cfg.node_name == "foobar");
  CHECK(cfg.server);
  CHECK(cfg.bootstrap_expect == 3);
  CHECK(cfg.retry_join == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
  CHECK(cfg.retry_interval == 15 * kSecond);
  CHECK(cfg.ports.http == 8501);
  CHECK(cfg.ports.dns == 8601);
  CHECK(cfg.node_meta.at("instance_type") == "t2.medium");
  CHECK(cfg.dns_config.service_ttl.at("*") == 5 * kSecond);
  CHECK(cfg.files == std::vector<std::string>{"t.hcl"});
}

// Consul's documentation: a service definition with a check.
TEST_CASE("HCL service with an embedded check block") {
  Config cfg = load_hcl(R"(service {
  name = "web"
  id   = "web-1"
  port = 80
  tags = ["rails", "v1"]
  meta {
    version = "1.0"
  }
  enable_tag_override = false
  check {
    id       = "web-http"
    name     = "HTTP on port 80"
    http     = "http://localhost:80/health"
    method   = "GET"
    header {
      Authorization = ["Bearer x"]
    }
    interval = "10s"
    timeout  = "1s"
  }
}
)");
  REQUIRE(cfg.services.size() == 1);
  const ServiceDefinition& s = cfg.services[0];
  CHECK(s.service.name == "web");
  CHECK(s.service.id == "web-1");
  CHECK(s.service.port == 80);
  CHECK(s.service.tags == std::vector<std::string>{"rails", "v1"});
  CHECK(s.service.meta.at("version") == "1.0");
  CHECK(s.file == "t.hcl");
  CHECK(s.line == 1);
  REQUIRE(s.checks.size() == 1);
  CHECK(s.checks[0].id == "web-http");
  CHECK(s.checks[0].def->http == "http://localhost:80/health");
  CHECK(s.checks[0].def->interval == 10 * kSecond);
  CHECK(s.checks[0].def->timeout == 1 * kSecond);
  CHECK(s.checks[0].def->header.at("Authorization") == std::vector<std::string>{"Bearer x"});
}

// Consul's documentation: several services in one file, in its two HCL forms.
TEST_CASE("HCL services: a list of objects, repeated services blocks, repeated service blocks") {
  Config listed = load_hcl(R"(
services = [
  {
    id   = "red0"
    name = "redis"
    tags = ["primary"]
    port = 6000
    checks = [
      {
        args     = ["/bin/check_redis", "-p", "6000"]
        interval = "5s"
        timeout  = "20s"
      },
    ]
  },
  {
    id   = "red1"
    name = "redis"
    tags = ["delayed", "secondary"]
    port = 7000
  },
]
)");
  REQUIRE(listed.services.size() == 2);
  CHECK(listed.services[0].service.id == "red0");
  CHECK(listed.services[1].service.id == "red1");
  REQUIRE(listed.services[0].checks.size() == 1);
  CHECK(listed.services[0].checks[0].def->args.size() == 3);

  Config blocks = load_hcl(R"(
services {
  id   = "red0"
  name = "redis"
  port = 6000
  checks {
    args     = ["/bin/check_redis", "-p", "6000"]
    interval = "5s"
  }
}
services {
  id   = "red1"
  name = "redis"
  port = 7000
  checks {
    ttl = "30s"
  }
  checks {
    tcp      = "localhost:7000"
    interval = "10s"
  }
}
)");
  REQUIRE(blocks.services.size() == 2);
  CHECK(blocks.services[0].service.id == "red0");
  CHECK(blocks.services[0].line == 2);
  CHECK(blocks.services[1].line == 11);
  // A lone checks block is a list of one check, as Consul decodes it.
  REQUIRE(blocks.services[0].checks.size() == 1);
  REQUIRE(blocks.services[1].checks.size() == 2);
  CHECK(blocks.services[1].checks[0].def->ttl == 30 * kSecond);
  CHECK(blocks.services[1].checks[1].def->tcp == "localhost:7000");
  CHECK(blocks.services[1].checks[1].id == "service:red1:2");

  Config repeated = load_hcl("service { name = \"a\" }\nservice { name = \"b\" }\n");
  REQUIRE(repeated.services.size() == 2);
  CHECK(repeated.services[0].service.name == "a");
  CHECK(repeated.services[1].service.name == "b");
  CHECK(repeated.services[1].line == 2);
}

TEST_CASE("HCL top-level check and checks blocks") {
  Config cfg = load_hcl(R"(
check {
  id   = "mem"
  name = "Memory utilization"
  ttl  = "30s"
}
checks = [
  { id = "disk", name = "Disk", ttl = "1m" },
]
)");
  REQUIRE(cfg.checks.size() == 2);
  CHECK(cfg.checks[0].id == "mem");
  CHECK(cfg.checks[1].id == "disk");
  CHECK(cfg.checks[1].def->ttl == kMinute);
}

TEST_CASE("HCL heredocs") {
  Value v = hcl_tree("a = <<EOF\nline one\n  line \"two\" ${x}\nEOF\nb = 1\n");
  CHECK(v.find("a")->s == "line one\n  line \"two\" ${x}\n");
  CHECK(v.find("b")->i == 1);
  // <<- removes the closing marker's indentation from every line.
  v = hcl_tree("a = <<-EOT\n    one\n      two\n    EOT\n");
  CHECK(v.find("a")->s == "one\n  two\n");
  // ... unless a line has less of it.
  v = hcl_tree("a = <<-EOT\n    one\n  two\n    EOT\n");
  CHECK(v.find("a")->s == "    one\n  two\n");
  v = hcl_tree("a = <<EOF\nEOF");
  CHECK(v.find("a")->s == "");
  v = hcl_tree("list = [<<A\nx\nA\n, \"y\"]\n");
  REQUIRE(v.find("list")->items.size() == 2);
  CHECK(v.find("list")->items[0].s == "x\n");
  // In a service definition: a check's notes.
  Config cfg = load_hcl(
      "service {\n  name = \"web\"\n  check {\n    ttl = \"10s\"\n    notes = <<EOF\nSee the "
      "runbook.\nEOF\n  }\n}\n");
  CHECK(cfg.services.at(0).checks.at(0).notes == "See the runbook.\n");
}

TEST_CASE("HCL comments") {
  Value v = hcl_tree(R"(# hash comment
// slash comment
/* block
   comment with "quotes" and { braces */
a = "x" # trailing
b = /* inline */ 2 // trailing
c = "not # a comment // either"
)");
  CHECK(v.fields.size() == 3);
  CHECK(v.find("a")->s == "x");
  CHECK(v.find("b")->i == 2);
  CHECK(v.find("c")->s == "not # a comment // either");
  CHECK(v.find("b")->line == 6);
  CHECK(hcl_tree("").fields.empty());
  CHECK(hcl_tree("# only a comment\n").fields.empty());
}

TEST_CASE("HCL scalars: strings, escapes, numbers, booleans") {
  Value v = hcl_tree(R"(
s = "tab\there \"q\" back\\slash \u00e9 \x41 \101 \U0001F600"
i = 42
n = -7
h = 0x1F
o = 0755
z = 0
f = 1.5
e = 1e3
g = -2.5E-2
t = true
u = false
"quoted key" = "v"
dotted.key-name = "w"
interp = "${node.name("x")}"
)");
  CHECK(v.find("s")->kind == Value::Kind::string);
  CHECK(v.find("s")->s == "tab\there \"q\" back\\slash \xC3\xA9 A A \xF0\x9F\x98\x80");
  CHECK(v.find("i")->kind == Value::Kind::integer);
  CHECK(v.find("i")->i == 42);
  CHECK(v.find("n")->i == -7);
  CHECK(v.find("h")->i == 31);
  CHECK(v.find("o")->i == 493);
  CHECK(v.find("z")->i == 0);
  CHECK(v.find("f")->kind == Value::Kind::number);
  CHECK(v.find("f")->d == 1.5);
  CHECK(v.find("e")->d == 1000.0);
  CHECK(v.find("g")->d == -0.025);
  CHECK(v.find("t")->kind == Value::Kind::boolean);
  CHECK(v.find("t")->b);
  CHECK_FALSE(v.find("u")->b);
  CHECK(v.fields[11].first == "quoted key");
  CHECK(v.fields[12].first == "dotted.key-name");
  CHECK(v.find("interp")->s == "${node.name(\"x\")}");
  v = hcl_tree("min = -9223372036854775808\nmax = 9223372036854775807\n");
  CHECK(v.find("min")->i == INT64_MIN);
  CHECK(v.find("max")->i == INT64_MAX);
}

TEST_CASE("HCL objects: labels nest, commas are optional, repeated keys merge as in HCL 1") {
  Value v = hcl_tree(R"(
a "b" "c" { x = 1 }
inline = { p = 1, q = 2 }
one { k = 1 } two = 2, three = 3
l = [1, 2]
l = [3]
blk { n = 1 }
blk { n = 2 }
blk = [{ n = 3 }]
)");
  const Value* a = v.find("a");
  REQUIRE(a);
  REQUIRE(a->is_object());
  REQUIRE(a->find("b"));
  REQUIRE(a->find("b")->find("c"));
  CHECK(a->find("b")->find("c")->find("x")->i == 1);
  CHECK(v.find("inline")->fields.size() == 2);
  CHECK(v.find("two")->i == 2);
  CHECK(v.find("three")->i == 3);
  REQUIRE(v.find("l")->items.size() == 3);
  CHECK(v.find("l")->items[2].i == 3);
  const Value* blk = v.find("blk");
  REQUIRE(blk->is_array());
  REQUIRE(blk->items.size() == 3);
  CHECK(blk->items[0].find("n")->i == 1);
  CHECK(blk->items[2].find("n")->i == 3);
  CHECK(blk->line == 7);
  // Labelled blocks of one name make a list, each nesting its labels.
  v = hcl_tree("svc \"a\" { p = 1 }\nsvc \"b\" { p = 2 }\n");
  REQUIRE(v.find("svc")->items.size() == 2);
  CHECK(v.find("svc")->items[1].find("b")->find("p")->i == 2);
  // checks and services objects are lists even alone.
  v = hcl_tree(
      "checks { ttl = \"1s\" }\nx { services = { name = \"n\" } }\ncheck { ttl = \"1s\" }\n");
  CHECK(v.find("checks")->is_array());
  CHECK(v.find("x")->find("services")->is_array());
  CHECK(v.find("check")->is_object());
}

TEST_CASE("HCL syntax errors name the line") {
  struct Case {
    const char* text;
    int line;
    const char* message;
  };
  const Case cases[] = {
      {"a = 1\nb = \"open\nc = 2\n", 2, "string is not closed on its line"},
      {"a = 1\nb {\n  c = 2\n", 4, "end of file inside the block opened at line 2"},
      {"datacenter = dc1\n", 1, "unquoted value dc1"},
      {"check {\n  interval = 10s\n}\n", 2, "invalid number 10s"},
      {"a = [1, 2\nb = 3\n", 2, "expected ',' or ']' in the list opened at line 1"},
      {"a = [1,\n", 2, "end of file inside the list opened at line 1"},
      {"a\n", 2, "expected '=' or '{' after \"a\", got end of file"},
      {"a \"b\" = 1\n", 1, "expected '=' after \"a\", got a string"},
      {"datacenter \"dc1\"\ndata_dir = \"/d\"\n", 1, "only a block takes labels"},
      {"a = 1\n}\n", 2, "unexpected '}'"},
      {"= 1\n", 1, "expected a key"},
      {"a = \n", 2, "expected a value, got end of file"},
      {"a = @\n", 1, "unexpected '@'"},
      {"/* open\n\na = 1\n", 1, "comment /* is not closed"},
      {"a = <<EOF\ntext\n", 1, "heredoc <<EOF is not closed"},
      {"a = <<EOF text\nEOF\n", 1, "must end its line"},
      {"a = <<\nx\n", 1, "heredoc needs a marker"},
      {"a = \"\\q\"\n", 1, "unknown escape"},
      {"a = \"\\uD800\"\n", 1, "names no Unicode character"},
      {"a = \"\\x4\"\n", 1, "hex digits"},
      {"a = 08\n", 1, "invalid octal number 08"},
      {"a = 9223372036854775808\n", 1, "out of range"},
      {"a = 1e999\n", 1, "out of range"},
      {"a = 0x\n", 1, "invalid number 0x"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    ParseError err = hcl_error(c.text);
    CHECK(err.code == ParseError::Code::syntax);
    CHECK(err.line == c.line);
    CHECK_MESSAGE(err.message.find(c.message) != std::string::npos, err.message);
  }
}

TEST_CASE("HCL: a scalar given twice is a duplicate key, as in YAML files") {
  ParseError err = hcl_error("datacenter = \"a\"\n\ndatacenter = \"b\"\n");
  CHECK(err.code == ParseError::Code::duplicate_key);
  CHECK(err.line == 3);
  CHECK(err.message == "duplicate key \"datacenter\" (first at line 1)");
  CHECK(hcl_error("a { }\na = 1\n").code == ParseError::Code::duplicate_key);
  // HCL 1's last-wins, when asked for.
  ParseLimits lax;
  lax.reject_duplicate_keys = false;
  Value v;
  REQUIRE(parse_hcl("a = 1\na = 2\n", v, err, lax));
  CHECK(v.find("a")->i == 2);
}

TEST_CASE("HCL errors through merge_file carry file, line and key") {
  CHECK(hcl_decode_error("datacenter = \"east\"\nport = 1\n") == "t.hcl:2: port: unknown field");
  CHECK(hcl_decode_error("service {\n  name = \"web\"\n  port = \"http\"\n}\n") ==
        "t.hcl:3: service.port: expected an integer, got \"http\"");
  CHECK(hcl_decode_error("server = \"yes\"\n") ==
        "t.hcl:1: server: expected true or false, got \"yes\"");
  CHECK(hcl_decode_error("a = 1\nb = {\n") ==
        "t.hcl:3: syntax error: end of file inside the block opened at line 2 (missing '}')");
  CHECK(hcl_decode_error("service {\n  port = 80\n}\n") ==
        "t.hcl:1: service: Missing service name");
  // Consul refuses several blocks where it decodes one object; so does cairn.
  CHECK(hcl_decode_error("ports { http = 1 }\nports { dns = 2 }\n") ==
        "t.hcl:1: ports: expected a map, got a list");
  // Two spellings of one key are still one key given twice.
  CHECK(hcl_decode_error("node_name = \"a\"\nNodeName = \"b\"\n") ==
        "t.hcl:2: NodeName: duplicate field (also given as \"node_name\")");
}

TEST_CASE("HCL is bounded: depth, values and size") {
  std::string deep;
  for (int i = 0; i < 70; ++i) deep += "a {\n";
  ParseError err = hcl_error(deep);
  CHECK(err.code == ParseError::Code::too_deep);
  CHECK(err.line == 65);
  std::string lists = "a = " + std::string(200, '[');
  CHECK(hcl_error(lists).code == ParseError::Code::too_deep);
  std::string labels = "a";
  for (int i = 0; i < 100; ++i) labels += " \"l\"";
  CHECK(hcl_error(labels + " {}\n").code == ParseError::Code::too_deep);
  // Repeated blocks add a level (the list): the tree's depth is what is bounded.
  std::string at_limit, repeated;
  for (int i = 0; i < 63; ++i) at_limit += "a {\n";
  at_limit += "x = 1\n";
  for (int i = 0; i < 63; ++i) at_limit += "}\n";
  Value v;
  CHECK(parse_hcl(at_limit, v, err));
  for (int i = 0; i < 40; ++i) repeated += "a {}\na {\n";
  for (int i = 0; i < 40; ++i) repeated += "}\n";
  err = hcl_error(repeated);
  CHECK(err.code == ParseError::Code::too_deep);
  CHECK(err.message.find("nested too deeply") != std::string::npos);

  ParseLimits small;
  small.max_values = 10;
  err = hcl_error("a = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\n", small);
  CHECK(err.code == ParseError::Code::too_large);
  CHECK(err.line == 1);
  small = ParseLimits{};
  small.max_text_bytes = 16;
  err = hcl_error("datacenter = \"east-aws\"\n", small);
  CHECK(err.code == ParseError::Code::too_large);
  CHECK(err.message.find("larger than 16 bytes") != std::string::npos);
}

TEST_CASE("-config-format hcl and *.hcl in config directories") {
  CHECK(check_config_format("hcl") == "");
  CHECK(check_config_format("toml") == "-config-format: \"toml\" must be json, yaml or hcl");
  Config forced;
  merge_file(forced, "consul.conf", "datacenter = \"east\"\n", "hcl");
  CHECK(forced.datacenter == "east");
  // A forced format wins over the extension, as Consul's -config-format.
  CHECK_THROWS_AS(merge_file(forced, "x.hcl", "datacenter = \"west\"\n", "yaml"), DecodeError);

  HclTempDir dir;
  dir.write("consul.hcl", "datacenter = \"east\"\nports { http = 8511 }\n");
  dir.write("web.hcl", "service {\n  name = \"web\"\n  port = 80\n}\n");
  dir.write("db.yaml", "service:\n  name: db\n");
  dir.write("notes.txt", "not = config\n");
  Config cfg;
  REQUIRE(load_files(cfg, {}, {dir.path}) == "");
  CHECK(cfg.datacenter == "east");
  CHECK(cfg.ports.http == 8511);
  REQUIRE(cfg.services.size() == 2);
  CHECK(cfg.services[0].service.name == "db");  // files are read in name order
  CHECK(cfg.services[1].service.name == "web");
  CHECK(validate(cfg) == "");

  std::string bad = dir.write("z.hcl", "service {\n  name = \"x\"\n  port = \"80\n}\n");
  Config again;
  CHECK(load_files(again, {}, {dir.path}) ==
        bad +
            ":3: syntax error: string is not closed on its line (several lines need a heredoc: "
            "<<EOF)");
}
