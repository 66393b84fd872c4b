// Prepared queries live in agent/state; their tests sit with the DNS tests
// because DNS is their main reader and both share one fixture style.
#include "agent/state/prepared_query.h"

#include <doctest/doctest.h>

#include <chrono>

#include "agent/state/prepared_query_ops.h"
#include "agent/state/store.h"

using namespace cairn::state;

namespace {

PreparedQuery make(std::string id, std::string name, std::string service) {
  PreparedQuery q;
  q.id = std::move(id);
  q.name = std::move(name);
  q.service.service = std::move(service);
  return q;
}

const char* kId1 = "11111111-2222-4333-8444-555555555555";
const char* kId2 = "11111111-2222-4333-8444-666666666666";
const char* kId3 = "11111111-2222-4333-8444-777777777777";

struct PreparedQueryFixture {
  Store store;
  std::string set(const PreparedQuery& q, bool create = true) {
    Batch b;
    std::string err = plan_query_set(store, q, create, b);
    if (err.empty() && !b.empty()) store.apply(b, store.index() + 1);
    return err;
  }
};

}  // namespace

TEST_CASE("validation follows Consul's messages") {
  PreparedQuery q = make(kId1, "", "web");
  CHECK(validate_query(q) == "Must be bound to a session");
  q.name = "x";
  q.service.service = "";
  CHECK(validate_query(q) == "Must provide a Service name to query");
  q.service.service = "web";
  q.service.failover.nearest_n = -1;
  CHECK(validate_query(q) == "Bad NearestN '-1', must be >= 0");
  q.service.failover.nearest_n = 0;
  q.dns_ttl = "ten";
  CHECK(validate_query(q) == "Bad DNS TTL 'ten': time: invalid duration \"ten\"");
  q.dns_ttl = "10s";
  q.token = "<hidden>";
  CHECK(validate_query(q).rfind("Bad Token '<hidden>'", 0) == 0);
  q.token = "";
  q.tmpl.type = "other";
  CHECK(validate_query(q) == "Bad Template.Type 'other'");
  q.tmpl.type = kTemplateNamePrefixMatch;
  q.service.service = "${nope}";
  CHECK(validate_query(q).find("unknown variable accessed: nope") != std::string::npos);
  q.service.service = "${name.suffix}";
  q.tmpl.regexp = "([";
  CHECK(validate_query(q) == "Bad Regexp: error parsing regexp: missing closing ]: `[`");
  q.tmpl.regexp = "(?=x)";  // Go's syntax: no lookahead
  CHECK(validate_query(q) ==
        "Bad Regexp: error parsing regexp: invalid or unsupported Perl syntax: `(?=`");
  q.tmpl.regexp = ".{1000}";
  CHECK(validate_query(q) == "Bad Regexp: error parsing regexp: expression too large: `.{1000}`");
  q.tmpl.regexp = "^geo-(.*)$";
  CHECK(validate_query(q) == "");
}

TEST_CASE_FIXTURE(PreparedQueryFixture, "names are unique, never alias an ID, one catch-all template") {
  CHECK(set(make(kId1, "db", "postgres")) == "");
  CHECK(set(make(kId2, "DB", "redis")) == "name 'DB' aliases an existing query name");
  CHECK(set(make(kId2, kId1, "redis")) ==
        std::string("name '") + kId1 + "' aliases an existing query ID");
  PreparedQuery wild = make(kId2, "", "${name.full}");
  wild.tmpl.type = kTemplateNamePrefixMatch;
  CHECK(set(wild) == "");
  wild.id = kId3;
  CHECK(set(wild) == "a query template with an empty name already exists");
  CHECK(set(make(kId3, "x", "y"), false) ==
        std::string("Cannot modify non-existent prepared query: '") + kId3 + "'");
  // Updating keeps CreateIndex and moves ModifyIndex.
  uint64_t created = store.prepared_query(kId1)->raft.create_index;
  CHECK(set(make(kId1, "db", "mysql"), false) == "");
  CHECK(store.prepared_query(kId1)->raft.create_index == created);
  CHECK(store.prepared_query(kId1)->raft.modify_index > created);
  CHECK(store.prepared_query_by_name("db")->service.service == "mysql");

  Batch b;
  CHECK(plan_query_delete(store, kId1, b) == "");
  store.apply(b, store.index() + 1);
  CHECK(store.prepared_query(kId1) == nullptr);
  CHECK(store.prepared_query_by_name("db") == nullptr);
}

TEST_CASE_FIXTURE(PreparedQueryFixture, "resolution: ID, exact name, longest template prefix, catch-all") {
  REQUIRE(set(make(kId1, "db", "postgres")) == "");
  PreparedQuery geo = make(kId2, "geo-", "${name.suffix}");
  geo.tmpl.type = kTemplateNamePrefixMatch;
  geo.tmpl.regexp = "^geo-(.*)-(.*)$";
  geo.service.tags = {"${match(2)}", "${match(9)}"};
  geo.tmpl.remove_empty_tags = true;
  REQUIRE(set(geo) == "");

  auto q = resolve_query(store, kId1);
  REQUIRE(q);
  CHECK(q->service.service == "postgres");
  q = resolve_query(store, "DB");
  REQUIRE(q);
  CHECK(q->id == kId1);
  q = resolve_query(store, "geo-redis-primary");
  REQUIRE(q);
  CHECK(q->service.service == "redis-primary");
  CHECK(q->service.tags == std::vector<std::string>{"primary"});
  CHECK(q->id == kId2);                      // a rendered template keeps its ID
  CHECK_FALSE(resolve_query(store, "dbx"));  // "db" is not a template

  PreparedQuery wild = make(kId3, "", "${name.full}");
  wild.tmpl.type = kTemplateNamePrefixMatch;
  REQUIRE(set(wild) == "");
  q = resolve_query(store, "anything");
  REQUIRE(q);
  CHECK(q->service.service == "anything");
}

TEST_CASE_FIXTURE(PreparedQueryFixture, "template regexes are Go's, compiled once, linear") {
  PreparedQuery geo = make(kId1, "geo-", "${match(1)}");
  geo.tmpl.type = kTemplateNamePrefixMatch;
  geo.tmpl.regexp = R"((?i)^geo-(\d+)-(?P<dc>[a-z]+)$)";
  geo.service.tags = {"${match(2)}"};
  REQUIRE(set(geo) == "");
  const PreparedQuery* stored = store.prepared_query(kId1);
  REQUIRE(stored->tmpl.compiled);  // compiled when stored, shared by every lookup
  auto q = resolve_query(store, "GEO-42-East");
  REQUIRE(q);
  CHECK(q->service.service == "42");
  CHECK(q->service.tags == std::vector<std::string>{"East"});
  CHECK(q->tmpl.compiled == stored->tmpl.compiled);
  // Updating the pattern compiles the new one.
  geo.tmpl.regexp = "^geo-(x)";
  REQUIRE(set(geo, false) == "");
  REQUIRE(store.prepared_query(kId1)->tmpl.compiled);
  CHECK(store.prepared_query(kId1)->tmpl.compiled->pattern() == "^geo-(x)");

  // The pattern of issue 12 against a long name: a backtracking engine takes exponential time.
  geo.tmpl.regexp = "^geo-([0-9a-f]|[0-9a-f])*z";
  REQUIRE(set(geo, false) == "");
  const std::string name = "geo-" + std::string(60, 'a');
  auto start = std::chrono::steady_clock::now();
  q = resolve_query(store, name);
  REQUIRE(q);
  CHECK(q->service.service == "");  // no match: ${match(1)} is empty
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE_FIXTURE(PreparedQueryFixture, "execution: health, IgnoreCheckIDs, tags, metadata") {
  Batch b;
  for (const char* n : {"a", "b", "c"}) {
    Node node;
    node.name = n;
    node.address = std::string("10.0.0.") + (n[0] == 'a' ? "1" : n[0] == 'b' ? "2" : "3");
    node.meta = {{"zone", n[0] == 'c' ? "z2" : "z1"}};
    b.push_back(PutNode{node});
    Service s;
    s.node = n;
    s.id = "web";
    s.name = "web";
    s.tags = {n[0] == 'a' ? "canary" : "stable"};
    b.push_back(PutService{s});
  }
  Check warn;
  warn.node = "b";
  warn.check_id = "slow";
  warn.status = kWarning;
  warn.service_id = "web";
  warn.service_name = "web";
  b.push_back(PutCheck{warn});
  Check crit = warn;
  crit.node = "c";
  crit.check_id = "down";
  crit.status = kCritical;
  b.push_back(PutCheck{crit});
  store.apply(b, 1);

  ServiceQuery q;
  q.service = "web";
  CHECK(execute_query(store, q).size() == 2);
  q.only_passing = true;
  CHECK(execute_query(store, q).size() == 1);
  q.only_passing = false;
  q.ignore_check_ids = {"down"};
  CHECK(execute_query(store, q).size() == 3);
  q.tags = {"!canary"};
  CHECK(execute_query(store, q).size() == 2);
  q.tags = {"STABLE"};
  q.node_meta = {{"zone", "z2"}};
  auto r = execute_query(store, q);
  REQUIRE(r.size() == 1);
  CHECK(r[0].node->name == "c");

  ServiceQuery all;
  all.service = "web";
  std::vector<QueryResultNode> nodes = execute_query(store, all);
  move_node_first(nodes, "B");
  CHECK(nodes[0].node->name == "b");
}
