// Rows as Consul's JSON: the exact field names, order and empty-value
// conventions clients parse (reference/consul-http-api.md section 1).
#pragma once

#include <string>

#include "agent/state/rows.h"
#include "common/json_writer.h"

namespace cairn::state {

// How a row's empty maps and lists are written. Consul's HTTP reads turn a
// nil one into {} or []; a transaction's results are written as its store
// holds them, where an empty one is nil (null), and the Go client compares
// them as such.
enum class Empties : uint8_t { as_empty, as_null };

// Node object (catalog, health entries).
void write_node(JsonWriter& w, const Node& n, Empties empties = Empties::as_empty);
// Service as NodeService (health entries, catalog node map). datacenter is
// emitted only when non-empty (the agent endpoints include it).
void write_service(JsonWriter& w, const Service& s, const std::string& datacenter = "",
                   bool with_indexes = true);
// Consul's Locality object; nothing when the service has none (omitempty).
void write_locality(JsonWriter& w, std::string_view name, const Locality& l);
// HealthCheck object.
void write_check(JsonWriter& w, const Check& c, Empties empties = Empties::as_empty);
// The Definition object inside a HealthCheck (omitempty fields, Go duration strings).
void write_check_definition(JsonWriter& w, const CheckDefinition& d);
// KVPair: Value base64 (null when empty, or when with_value is false).
void write_kv(JsonWriter& w, const KVEntry& e, bool with_value = true);
void write_session(JsonWriter& w, const Session& s);
// ServiceNode: node and service flattened (/v1/catalog/service/:name rows).
void write_service_node(JsonWriter& w, const Node& n, const Service& s);

}  // namespace cairn::state
