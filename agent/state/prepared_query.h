// Prepared queries (Consul's /v1/query): a stored service lookup with health,
// tag and metadata filters, executed by ID or name over HTTP and through DNS
// (`<name>.query.<domain>`). Templates (`name_prefix_match`) answer every name
// that starts with their own, interpolating ${name.full}, ${name.prefix},
// ${name.suffix}, ${match(N)} and ${agent.segment} into the Service fields.
//
// Everything here is pure: rows, template rendering and execution read the
// store and return values, so the HTTP API and the DNS answer builder share
// one implementation.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/state/rows.h"
#include "common/regex.h"

namespace cairn::state {

inline constexpr std::string_view kQueriesTable = "prepared-queries";
inline constexpr const char* kTemplateNamePrefixMatch = "name_prefix_match";

struct QueryTemplate {
  std::string type;  // "" (not a template) or "name_prefix_match"
  std::string regexp;
  bool remove_empty_tags = false;
  // `regexp` compiled once when the row is stored (compile_template), then shared by every
  // lookup of the template, over DNS and HTTP. Derived from `regexp`: not part of equality.
  std::shared_ptr<const Regex> compiled;
  bool operator==(const QueryTemplate& o) const {
    return type == o.type && regexp == o.regexp && remove_empty_tags == o.remove_empty_tags;
  }
};

struct QueryFailover {
  int nearest_n = 0;
  std::vector<std::string> datacenters;
  std::string targets_json;  // opaque [{"Peer":..,"Datacenter":..}], kept for round trips
  bool operator==(const QueryFailover&) const = default;
};

struct ServiceQuery {
  std::string service;
  QueryFailover failover;
  bool only_passing = false;
  std::vector<std::string> ignore_check_ids;
  std::string near;               // node name, "_agent" or "_ip"
  std::vector<std::string> tags;  // all required; "!tag" forbids
  std::map<std::string, std::string> node_meta;
  std::map<std::string, std::string> service_meta;
  std::string peer;
  bool connect = false;
  bool operator==(const ServiceQuery&) const = default;
};

struct PreparedQuery {
  std::string id;
  std::string name;
  std::string session;
  std::string token;
  QueryTemplate tmpl;
  ServiceQuery service;
  std::string dns_ttl;  // Go duration text, "" = use the agent's service TTLs
  RaftIndex raft;

  bool is_template() const { return !tmpl.type.empty(); }
  bool same_content(const PreparedQuery& o) const;
};

// Checks a definition before it is stored (Consul's parseQuery plus template
// compilation). Returns "" or the error text without the "Invalid prepared
// query: " prefix the API adds.
std::string validate_query(const PreparedQuery& q);

// Sets t.compiled from t.regexp (null when there is none or it does not compile: validate_query
// refuses such a definition, and render_template then reports the error).
void compile_template(QueryTemplate& t);

// Renders a template for a looked-up name. Returns "" or an error.
std::string render_template(const PreparedQuery& tmpl, std::string_view name,
                            std::string_view agent_segment, PreparedQuery& out);

class Store;

// Finds the query an ID or name refers to, as Consul's PreparedQueryResolve:
// a UUID by ID, then the longest name prefix (exact name, or a template whose
// name is a prefix), then the catch-all template (empty name). Names compare
// case-insensitively. Templates come back rendered for the name.
std::optional<PreparedQuery> resolve_query(const Store& store, std::string_view id_or_name,
                                           std::string* error = nullptr);

// One result row: a service instance with its node and checks.
struct QueryResultNode {
  const Node* node = nullptr;
  const Service* service = nullptr;
  std::vector<const Check*> checks;  // node-level then the instance's, by check ID
};

// Selects the healthy, matching instances of the query's service in the local
// store, unordered (the caller shuffles and sorts).
std::vector<QueryResultNode> execute_query(const Store& store, const ServiceQuery& q);

// Moves the instance on `node` (case-insensitive) to the front, looking at the
// first ten only, as Consul does after its distance sort.
void move_node_first(std::vector<QueryResultNode>& nodes, std::string_view node);

// The aggregated health of checks (critical > warning > passing) for SRV weights.
std::string aggregated_status(const std::vector<const Check*>& checks);

}  // namespace cairn::state
