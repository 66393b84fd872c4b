#include "agent/server/etcd_rows.h"

#include <simdjson.h>

#include <algorithm>
#include <limits>

#include "agent/state/store.h"
#include "common/base64.h"
#include "common/json_fields.h"
#include "common/json_writer.h"

namespace cairn::server {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;
using state::lower;  // node names are case-insensitive, as in the store

std::string join_key(std::string_view table, std::string_view a) {
  std::string k;
  k.reserve(kRowPrefix.size() + table.size() + 1 + a.size());
  k.append(kRowPrefix).append(table).append("/").append(a);
  return k;
}

constexpr std::string_view kTableNames[] = {"node",  "service",   "check",  "kv",        "session",
                                            "query", "lockdelay", "leader", "autopilot", "handoff"};

// ---- writing ---------------------------------------------------------------

void string_map(JsonWriter& w, std::string_view name, const std::map<std::string, std::string>& m) {
  if (m.empty()) return;
  w.key(name);
  w.begin_object();
  for (const auto& [k, v] : m) w.field(k, v);
  w.end_object();
}

void strings(JsonWriter& w, std::string_view name, const std::vector<std::string>& v) {
  if (!v.empty()) w.string_array(name, v);
}

void text(JsonWriter& w, std::string_view name, const std::string& v) {
  if (!v.empty()) w.field(name, v);
}

void number(JsonWriter& w, std::string_view name, int64_t v) {
  if (v != 0) w.field(name, v);
}

void flag(JsonWriter& w, std::string_view name, bool v) {
  if (v) w.field(name, true);
}

void raw_json(JsonWriter& w, std::string_view name, const std::string& json) {
  if (json.empty()) return;
  w.key(name);
  w.raw(json);
}

void write_definition(JsonWriter& w, const state::CheckDefinition& d) {
  w.begin_object();
  text(w, "HTTP", d.http);
  text(w, "Method", d.method);
  if (!d.header.empty()) {
    w.key("Header");
    w.begin_object();
    for (const auto& [k, values] : d.header) w.string_array(k, values);
    w.end_object();
  }
  text(w, "Body", d.body);
  text(w, "TLSServerName", d.tls_server_name);
  flag(w, "TLSSkipVerify", d.tls_skip_verify);
  flag(w, "DisableRedirects", d.disable_redirects);
  text(w, "TCP", d.tcp);
  text(w, "UDP", d.udp);
  text(w, "GRPC", d.grpc);
  flag(w, "GRPCUseTLS", d.grpc_use_tls);
  text(w, "H2PING", d.h2ping);
  flag(w, "H2PingUseTLS", d.h2ping_use_tls);
  strings(w, "Args", d.args);
  text(w, "Shell", d.shell);
  text(w, "DockerContainerID", d.docker_container_id);
  text(w, "AliasNode", d.alias_node);
  text(w, "AliasService", d.alias_service);
  number(w, "TTL", d.ttl);
  number(w, "Interval", d.interval);
  number(w, "Timeout", d.timeout);
  number(w, "DeregisterCriticalServiceAfter", d.deregister_critical_service_after);
  number(w, "SuccessBeforePassing", d.success_before_passing);
  number(w, "FailuresBeforeWarning", d.failures_before_warning);
  number(w, "FailuresBeforeCritical", d.failures_before_critical);
  number(w, "OutputMaxSize", d.output_max_size);
  w.end_object();
}

// ---- reading ---------------------------------------------------------------

void int32(FieldReader& r, object o, std::string_view field, int& out) {
  int64_t v = 0;
  r.int64(o, field, v);
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
    return r.fail(field, "out of range");
  out = static_cast<int>(v);
}

void raw_json(FieldReader& r, object o, std::string_view field, std::string& out) {
  element e;
  if (r.failed() || o[field].get(e)) return;
  out = simdjson::minify(e);
}

void read_definition(FieldReader& r, object o, state::CheckDefinition& d) {
  r.text(o, "HTTP", d.http);
  r.text(o, "Method", d.method);
  object header;
  if (r.sub_object(o, "Header", header)) {
    for (auto kv : header) {
      simdjson::dom::array values;
      if (kv.value.get_array().get(values)) return r.fail("Header", "expected arrays of strings");
      auto& list = d.header[std::string(kv.key)];
      for (element v : values) {
        std::string_view s;
        if (v.get_string().get(s)) return r.fail("Header", "expected arrays of strings");
        list.emplace_back(s);
      }
    }
  }
  r.text(o, "Body", d.body);
  r.text(o, "TLSServerName", d.tls_server_name);
  r.boolean(o, "TLSSkipVerify", d.tls_skip_verify);
  r.boolean(o, "DisableRedirects", d.disable_redirects);
  r.text(o, "TCP", d.tcp);
  r.text(o, "UDP", d.udp);
  r.text(o, "GRPC", d.grpc);
  r.boolean(o, "GRPCUseTLS", d.grpc_use_tls);
  r.text(o, "H2PING", d.h2ping);
  r.boolean(o, "H2PingUseTLS", d.h2ping_use_tls);
  r.strings(o, "Args", d.args);
  r.text(o, "Shell", d.shell);
  r.text(o, "DockerContainerID", d.docker_container_id);
  r.text(o, "AliasNode", d.alias_node);
  r.text(o, "AliasService", d.alias_service);
  r.int64(o, "TTL", d.ttl);
  r.int64(o, "Interval", d.interval);
  r.int64(o, "Timeout", d.timeout);
  r.int64(o, "DeregisterCriticalServiceAfter", d.deregister_critical_service_after);
  int32(r, o, "SuccessBeforePassing", d.success_before_passing);
  int32(r, o, "FailuresBeforeWarning", d.failures_before_warning);
  int32(r, o, "FailuresBeforeCritical", d.failures_before_critical);
  int32(r, o, "OutputMaxSize", d.output_max_size);
}

state::RaftIndex raft_of(const etcd::KeyValue& kv) {
  return {static_cast<uint64_t>(kv.create_revision), static_cast<uint64_t>(kv.mod_revision)};
}

RowStatus malformed(std::string why) {
  return {RowStatus::Code::malformed, std::move(why)};
}

template <typename Read>
RowStatus with_object(const etcd::KeyValue& kv, Read&& read) {
  thread_local simdjson::dom::parser parser;
  object o;
  if (parse_document(parser, kv.value).get_object().get(o))
    return malformed(kv.key + ": not a JSON object");
  std::string why;
  FieldReader r(why);
  read(r, o);
  if (r.failed()) return malformed(kv.key + ": " + why);
  return {};
}

RowStatus read_node(const etcd::KeyValue& kv, const RowKey& key, state::Mutation& out) {
  state::Node n;
  RowStatus st = with_object(kv, [&](FieldReader& r, object o) {
    r.text(o, "ID", n.id);
    r.text(o, "Node", n.name);
    r.text(o, "Address", n.address);
    r.text(o, "Datacenter", n.datacenter);
    r.string_map(o, "TaggedAddresses", n.tagged_addresses);
    r.string_map(o, "Meta", n.meta);
  });
  if (!st.ok()) return st;
  if (lower(n.name) != key.id) return malformed(kv.key + ": the row names another node");
  n.raft = raft_of(kv);
  out = state::PutNode{std::move(n)};
  return {};
}

RowStatus read_service(const etcd::KeyValue& kv, const RowKey& key, state::Mutation& out) {
  state::Service s;
  RowStatus st = with_object(kv, [&](FieldReader& r, object o) {
    r.text(o, "Node", s.node);
    r.text(o, "Kind", s.kind);
    r.text(o, "Service", s.name);
    r.strings(o, "Tags", s.tags);
    r.text(o, "Address", s.address);
    object tagged;
    if (r.sub_object(o, "TaggedAddresses", tagged)) {
      for (auto entry : tagged) {
        object addr;
        if (entry.value.get_object().get(addr))
          return r.fail("TaggedAddresses", "expected objects");
        auto& a = s.tagged_addresses[std::string(entry.key)];
        r.text(addr, "Address", a.address);
        int32(r, addr, "Port", a.port);
      }
    }
    r.string_map(o, "Meta", s.meta);
    int32(r, o, "Port", s.port);
    r.text(o, "SocketPath", s.socket_path);
    object weights;
    if (r.sub_object(o, "Weights", weights)) {
      int32(r, weights, "Passing", s.weights.passing);
      int32(r, weights, "Warning", s.weights.warning);
    }
    r.boolean(o, "EnableTagOverride", s.enable_tag_override);
    raw_json(r, o, "Proxy", s.proxy_json);
    raw_json(r, o, "Connect", s.connect_json);
    // Added with Consul 1.17's Locality: rows written before it have none.
    object locality;
    if (r.sub_object(o, "Locality", locality)) {
      r.text(locality, "Region", s.locality.region);
      r.text(locality, "Zone", s.locality.zone);
    }
  });
  if (!st.ok()) return st;
  if (lower(s.node) != key.node) return malformed(kv.key + ": the row names another node");
  s.id = key.id;
  s.raft = raft_of(kv);
  out = state::PutService{std::move(s)};
  return {};
}

RowStatus read_check(const etcd::KeyValue& kv, const RowKey& key, state::Mutation& out) {
  state::Check c;
  state::CheckDefinition def;
  RowStatus st = with_object(kv, [&](FieldReader& r, object o) {
    r.text(o, "Node", c.node);
    r.text(o, "Name", c.name);
    r.text(o, "Status", c.status);
    r.text(o, "Notes", c.notes);
    r.text(o, "Output", c.output);
    r.text(o, "ServiceID", c.service_id);
    r.text(o, "ServiceName", c.service_name);
    r.strings(o, "ServiceTags", c.service_tags);
    r.text(o, "Type", c.type);
    object d;
    if (r.sub_object(o, "Definition", d)) read_definition(r, d, def);
  });
  if (!st.ok()) return st;
  if (lower(c.node) != key.node) return malformed(kv.key + ": the row names another node");
  if (!state::is_valid_status(c.status)) return malformed(kv.key + ": unknown check status");
  c.check_id = key.id;
  c.definition = state::SharedCheckDefinition(std::move(def));
  c.raft = raft_of(kv);
  out = state::PutCheck{std::move(c)};
  return {};
}

RowStatus read_kv(const etcd::KeyValue& kv, const RowKey& key, state::Mutation& out) {
  state::KVEntry e;
  RowStatus st = with_object(kv, [&](FieldReader& r, object o) {
    r.uint64(o, "Flags", e.flags);
    r.bytes(o, "Value", e.value);
    r.text(o, "Session", e.session);
    r.uint64(o, "LockIndex", e.lock_index);
  });
  if (!st.ok()) return st;
  e.key = key.id;
  e.raft = raft_of(kv);
  out = state::PutKV{std::move(e)};
  return {};
}

RowStatus read_lock_delay(const etcd::KeyValue& kv, const RowKey& key, state::Mutation& out) {
  state::SetLockDelay d{key.id, 0};
  RowStatus st = with_object(kv, [&](FieldReader& r, object o) { r.int64(o, "Until", d.until_unix_ms); });
  if (!st.ok()) return st;
  out = std::move(d);
  return {};
}

RowStatus read_session(const etcd::KeyValue& kv, const RowKey& key, state::Mutation& out) {
  state::Session s;
  RowStatus st = with_object(kv, [&](FieldReader& r, object o) {
    r.text(o, "Name", s.name);
    r.text(o, "Node", s.node);
    r.int64(o, "LockDelay", s.lock_delay);
    r.text(o, "Behavior", s.behavior);
    r.int64(o, "TTL", s.ttl);
    r.strings(o, "NodeChecks", s.node_checks);
    r.objects(o, "ServiceChecks", [&](object ref) {
      auto& c = s.service_checks.emplace_back();
      r.text(ref, "ID", c.id);
      r.text(ref, "Namespace", c.ns);
    });
  });
  if (!st.ok()) return st;
  if (s.behavior != state::kBehaviorRelease && s.behavior != state::kBehaviorDelete)
    return malformed(kv.key + ": unknown session behavior");
  s.id = key.id;
  s.raft = raft_of(kv);
  out = state::PutSession{std::move(s)};
  return {};
}

RowStatus read_query(const etcd::KeyValue& kv, const RowKey& key, state::Mutation& out) {
  state::PreparedQuery q;
  RowStatus st = with_object(kv, [&](FieldReader& r, object o) {
    r.text(o, "Name", q.name);
    r.text(o, "Session", q.session);
    r.text(o, "Token", q.token);
    object t;
    if (r.sub_object(o, "Template", t)) {
      r.text(t, "Type", q.tmpl.type);
      r.text(t, "Regexp", q.tmpl.regexp);
      r.boolean(t, "RemoveEmptyTags", q.tmpl.remove_empty_tags);
    }
    object svc;
    if (r.sub_object(o, "Service", svc)) {
      auto& s = q.service;
      r.text(svc, "Service", s.service);
      object f;
      if (r.sub_object(svc, "Failover", f)) {
        int32(r, f, "NearestN", s.failover.nearest_n);
        r.strings(f, "Datacenters", s.failover.datacenters);
        raw_json(r, f, "Targets", s.failover.targets_json);
      }
      r.boolean(svc, "OnlyPassing", s.only_passing);
      r.strings(svc, "IgnoreCheckIDs", s.ignore_check_ids);
      r.text(svc, "Near", s.near);
      r.strings(svc, "Tags", s.tags);
      r.string_map(svc, "NodeMeta", s.node_meta);
      r.string_map(svc, "ServiceMeta", s.service_meta);
      r.text(svc, "Peer", s.peer);
      r.boolean(svc, "Connect", s.connect);
    }
    r.text(o, "DNSTTL", q.dns_ttl);
  });
  if (!st.ok()) return st;
  q.id = key.id;
  q.raft = raft_of(kv);
  out = state::PutPreparedQuery{std::move(q)};
  return {};
}

RowStatus read_autopilot(const etcd::KeyValue& kv, state::Mutation& out) {
  state::AutopilotConfig c;
  RowStatus st = with_object(kv, [&](FieldReader& r, object o) {
    r.boolean(o, "CleanupDeadServers", c.cleanup_dead_servers);
    r.int64(o, "LastContactThreshold", c.last_contact_threshold);
    r.uint64(o, "MaxTrailingLogs", c.max_trailing_logs);
    r.uint64(o, "MinQuorum", c.min_quorum);
    r.int64(o, "ServerStabilizationTime", c.server_stabilization_time);
    r.text(o, "RedundancyZoneTag", c.redundancy_zone_tag);
    r.boolean(o, "DisableUpgradeMigration", c.disable_upgrade_migration);
    r.text(o, "UpgradeVersionTag", c.upgrade_version_tag);
  });
  if (!st.ok()) return st;
  c.raft = raft_of(kv);
  out = state::PutAutopilotConfig{std::move(c)};
  return {};
}

}  // namespace

std::string autopilot_row_key() {
  return join_key("autopilot", "config");
}

std::string node_row_key(std::string_view node_name) {
  return join_key("node", lower(node_name));
}

std::string service_row_key(std::string_view node_name, std::string_view service_id) {
  return join_key("service", lower(node_name) + "/" + std::string(service_id));
}

std::string check_row_key(std::string_view node_name, std::string_view check_id) {
  return join_key("check", lower(node_name) + "/" + std::string(check_id));
}

std::string kv_row_key(std::string_view key) {
  return join_key("kv", key);
}
std::string session_row_key(std::string_view id) {
  return join_key("session", id);
}
std::string query_row_key(std::string_view id) {
  return join_key("query", id);
}
std::string encode_lock_delay_row(int64_t until_unix_ms) {
  return "{\"Until\":" + std::to_string(until_unix_ms) + "}";
}

int64_t session_lease_id(std::string_view session_id) {
  uint64_t id = 0;
  int digits = 0;
  for (char c : session_id) {
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                             : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (v < 0) continue;  // the dashes
    id = id << 4 | static_cast<uint64_t>(v);
    if (++digits == 16) break;
  }
  id &= 0x7fffffffffffffffULL;
  return id == 0 ? 1 : static_cast<int64_t>(id);
}

int64_t session_lease_ttl_seconds(int64_t ttl_nanos) {
  constexpr int64_t kSecondNanos = 1'000'000'000;
  return (2 * ttl_nanos + kSecondNanos - 1) / kSecondNanos;
}

std::string lockdelay_row_key(std::string_view key) {
  return join_key("lockdelay", key);
}

RowKey parse_row_key(std::string_view etcd_key) {
  RowKey out;
  if (!etcd_key.starts_with(kRowPrefix)) return out;
  std::string_view rest = etcd_key.substr(kRowPrefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return out;
  std::string_view table = rest.substr(0, slash);
  rest.remove_prefix(slash + 1);
  auto it = std::find(std::begin(kTableNames), std::end(kTableNames), table);
  if (it == std::end(kTableNames)) return out;
  Table t = static_cast<Table>(it - std::begin(kTableNames));
  if (t == Table::service || t == Table::check) {
    size_t sep = rest.find('/');
    if (sep == std::string_view::npos || sep == 0 || sep + 1 == rest.size()) return out;
    out.node = std::string(rest.substr(0, sep));
    rest.remove_prefix(sep + 1);
  } else if (rest.empty() && t != Table::leader && t != Table::handoff) {
    return out;
  }
  out.table = t;
  out.id = std::string(rest);
  return out;
}

std::string encode_row(const state::Node& n) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  text(w, "ID", n.id);
  w.field("Node", n.name);
  text(w, "Address", n.address);
  text(w, "Datacenter", n.datacenter);
  string_map(w, "TaggedAddresses", n.tagged_addresses);
  string_map(w, "Meta", n.meta);
  w.end_object();
  return out;
}

std::string encode_row(const state::Service& s) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("Node", s.node);
  text(w, "Kind", s.kind);
  w.field("Service", s.name);
  strings(w, "Tags", s.tags);
  text(w, "Address", s.address);
  if (!s.tagged_addresses.empty()) {
    w.key("TaggedAddresses");
    w.begin_object();
    for (const auto& [name, a] : s.tagged_addresses) {
      w.key(name);
      w.begin_object();
      w.field("Address", a.address);
      w.field("Port", a.port);
      w.end_object();
    }
    w.end_object();
  }
  string_map(w, "Meta", s.meta);
  number(w, "Port", s.port);
  text(w, "SocketPath", s.socket_path);
  if (s.weights != state::Weights{}) {
    w.key("Weights");
    w.begin_object();
    w.field("Passing", s.weights.passing);
    w.field("Warning", s.weights.warning);
    w.end_object();
  }
  flag(w, "EnableTagOverride", s.enable_tag_override);
  raw_json(w, "Proxy", s.proxy_json);
  raw_json(w, "Connect", s.connect_json);
  if (!s.locality.empty()) {
    w.key("Locality");
    w.begin_object();
    text(w, "Region", s.locality.region);
    text(w, "Zone", s.locality.zone);
    w.end_object();
  }
  w.end_object();
  return out;
}

std::string encode_row(const state::Check& c) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("Node", c.node);
  text(w, "Name", c.name);
  w.field("Status", c.status);
  text(w, "Notes", c.notes);
  text(w, "Output", c.output);
  text(w, "ServiceID", c.service_id);
  text(w, "ServiceName", c.service_name);
  strings(w, "ServiceTags", c.service_tags);
  text(w, "Type", c.type);
  if (!(*c.definition == state::CheckDefinition{})) {
    w.key("Definition");
    write_definition(w, *c.definition);
  }
  w.end_object();
  return out;
}

std::string encode_row(const state::KVEntry& e) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  if (e.flags != 0) w.field("Flags", e.flags);
  if (!e.value.empty()) w.field("Value", base64_encode(e.value));
  text(w, "Session", e.session);
  if (e.lock_index != 0) w.field("LockIndex", e.lock_index);
  w.end_object();
  return out;
}

std::string encode_row(const state::Session& s) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  text(w, "Name", s.name);
  w.field("Node", s.node);
  w.field("LockDelay", static_cast<int64_t>(s.lock_delay));
  w.field("Behavior", s.behavior);
  number(w, "TTL", s.ttl);
  strings(w, "NodeChecks", s.node_checks);
  if (!s.service_checks.empty()) {
    w.key("ServiceChecks");
    w.begin_array();
    for (const auto& ref : s.service_checks) {
      w.begin_object();
      w.field("ID", ref.id);
      text(w, "Namespace", ref.ns);
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
  return out;
}

std::string encode_row(const state::PreparedQuery& q) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  text(w, "Name", q.name);
  text(w, "Session", q.session);
  text(w, "Token", q.token);
  if (q.is_template() || !q.tmpl.regexp.empty()) {
    w.key("Template");
    w.begin_object();
    text(w, "Type", q.tmpl.type);
    text(w, "Regexp", q.tmpl.regexp);
    flag(w, "RemoveEmptyTags", q.tmpl.remove_empty_tags);
    w.end_object();
  }
  const auto& s = q.service;
  w.key("Service");
  w.begin_object();
  w.field("Service", s.service);
  if (!(s.failover == state::QueryFailover{})) {
    w.key("Failover");
    w.begin_object();
    number(w, "NearestN", s.failover.nearest_n);
    strings(w, "Datacenters", s.failover.datacenters);
    raw_json(w, "Targets", s.failover.targets_json);
    w.end_object();
  }
  flag(w, "OnlyPassing", s.only_passing);
  strings(w, "IgnoreCheckIDs", s.ignore_check_ids);
  text(w, "Near", s.near);
  strings(w, "Tags", s.tags);
  string_map(w, "NodeMeta", s.node_meta);
  string_map(w, "ServiceMeta", s.service_meta);
  text(w, "Peer", s.peer);
  flag(w, "Connect", s.connect);
  w.end_object();
  text(w, "DNSTTL", q.dns_ttl);
  w.end_object();
  return out;
}

std::string encode_row(const state::AutopilotConfig& c) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("CleanupDeadServers", c.cleanup_dead_servers);
  w.field("LastContactThreshold", c.last_contact_threshold);
  w.field("MaxTrailingLogs", c.max_trailing_logs);
  w.field("MinQuorum", c.min_quorum);
  w.field("ServerStabilizationTime", c.server_stabilization_time);
  w.field("RedundancyZoneTag", c.redundancy_zone_tag);
  w.field("DisableUpgradeMigration", c.disable_upgrade_migration);
  w.field("UpgradeVersionTag", c.upgrade_version_tag);
  w.end_object();
  return out;
}

RowStatus decode_row(const etcd::KeyValue& kv, state::Mutation& out) {
  RowKey key = parse_row_key(kv.key);
  if (kv.create_revision <= 0 || kv.mod_revision < kv.create_revision)
    return malformed(kv.key + ": bad revisions");
  switch (key.table) {
    case Table::node:
      return read_node(kv, key, out);
    case Table::service:
      return read_service(kv, key, out);
    case Table::check:
      return read_check(kv, key, out);
    case Table::kv:
      return read_kv(kv, key, out);
    case Table::session:
      return read_session(kv, key, out);
    case Table::query:
      return read_query(kv, key, out);
    case Table::lockdelay:
      return read_lock_delay(kv, key, out);
    case Table::autopilot:
      if (key.id != "config") break;
      return read_autopilot(kv, out);
    case Table::leader:
    case Table::handoff:
      return {RowStatus::Code::ignored, {}};
    case Table::unknown:
      break;
  }
  if (kv.key.starts_with(kRowPrefix)) return malformed(kv.key + ": not a cairn row key");
  return {RowStatus::Code::ignored, {}};
}

RowStatus decode_row_delete(std::string_view etcd_key, state::Mutation& out) {
  RowKey key = parse_row_key(etcd_key);
  switch (key.table) {
    case Table::node:
      out = state::DeleteNode{key.id};
      return {};
    case Table::service:
      out = state::DeleteService{key.node, key.id};
      return {};
    case Table::check:
      out = state::DeleteCheck{key.node, key.id};
      return {};
    case Table::kv:
      out = state::DeleteKV{key.id};
      return {};
    case Table::session:
      out = state::DeleteSession{key.id};
      return {};
    case Table::query:
      out = state::DeletePreparedQuery{key.id};
      return {};
    case Table::lockdelay:
    case Table::leader:
    case Table::autopilot:  // never deleted: the next read answers the defaults
    case Table::handoff:
      return {RowStatus::Code::ignored, {}};
    case Table::unknown:
      break;
  }
  if (etcd_key.starts_with(kRowPrefix))
    return malformed(std::string(etcd_key) + ": not a cairn row key");
  return {RowStatus::Code::ignored, {}};
}

}  // namespace cairn::server
