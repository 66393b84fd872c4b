#include "agent/state/encode.h"

#include "common/base64.h"

namespace cairn::state {

void write_kv(JsonWriter& w, const KVEntry& e, bool with_value) {
  w.begin_object();
  w.field("LockIndex", e.lock_index);
  w.field("Key", e.key);
  w.field("Flags", e.flags);
  w.key("Value");
  if (with_value && !e.value.empty())
    w.string(base64_encode(e.value));
  else
    w.null();
  if (!e.session.empty()) w.field("Session", e.session);
  w.field("CreateIndex", e.raft.create_index);
  w.field("ModifyIndex", e.raft.modify_index);
  w.end_object();
}

void write_session(JsonWriter& w, const Session& s) {
  w.begin_object();
  w.field("ID", s.id);
  w.field("Name", s.name);
  w.field("Node", s.node);
  w.field("LockDelay", static_cast<int64_t>(s.lock_delay));
  w.field("Behavior", s.behavior);
  w.field("TTL", s.ttl ? format_duration(s.ttl) : std::string());
  w.string_array("NodeChecks", s.node_checks);
  w.key("ServiceChecks");
  if (s.service_checks.empty()) {
    w.null();
  } else {
    w.begin_array();
    for (const auto& ref : s.service_checks) {
      w.begin_object();
      w.field("ID", ref.id);
      w.field("Namespace", ref.ns);
      w.end_object();
    }
    w.end_array();
  }
  w.field("CreateIndex", s.raft.create_index);
  w.field("ModifyIndex", s.raft.modify_index);
  w.end_object();
}

namespace {

void string_map(JsonWriter& w, std::string_view key, const std::map<std::string, std::string>& m,
                Empties empties = Empties::as_empty) {
  w.key(key);
  if (m.empty() && empties == Empties::as_null) {
    w.null();
    return;
  }
  w.begin_object();
  for (const auto& [k, v] : m) w.field(k, v);
  w.end_object();
}

void tagged_service_addresses(JsonWriter& w, const std::map<std::string, ServiceAddress>& m) {
  w.begin_object();
  for (const auto& [k, a] : m) {
    w.key(k);
    w.begin_object();
    w.field("Address", a.address);
    w.field("Port", a.port);
    w.end_object();
  }
  w.end_object();
}

void weights(JsonWriter& w, const Weights& wt) {
  w.begin_object();
  w.field("Passing", wt.passing);
  w.field("Warning", wt.warning);
  w.end_object();
}

}  // namespace

void write_locality(JsonWriter& w, std::string_view name, const Locality& l) {
  if (l.empty()) return;
  w.key(name);
  w.begin_object();
  if (!l.region.empty()) w.field("Region", l.region);
  if (!l.zone.empty()) w.field("Zone", l.zone);
  w.end_object();
}

void write_node(JsonWriter& w, const Node& n, Empties empties) {
  w.begin_object();
  w.field("ID", n.id);
  w.field("Node", n.name);
  w.field("Address", n.address);
  w.field("Datacenter", n.datacenter);
  string_map(w, "TaggedAddresses", n.tagged_addresses, empties);
  string_map(w, "Meta", n.meta, empties);
  w.field("CreateIndex", n.raft.create_index);
  w.field("ModifyIndex", n.raft.modify_index);
  w.end_object();
}

void write_service(JsonWriter& w, const Service& s, const std::string& datacenter,
                   bool with_indexes) {
  w.begin_object();
  if (!s.kind.empty()) w.field("Kind", s.kind);
  w.field("ID", s.id);
  w.field("Service", s.name);
  w.string_array("Tags", s.tags);
  string_map(w, "Meta", s.meta);
  w.field("Port", s.port);
  w.field("Address", s.address);
  if (!s.socket_path.empty()) w.field("SocketPath", s.socket_path);
  if (!s.tagged_addresses.empty()) {
    w.key("TaggedAddresses");
    tagged_service_addresses(w, s.tagged_addresses);
  }
  w.key("Weights");
  weights(w, s.weights);
  w.field("EnableTagOverride", s.enable_tag_override);
  if (!s.proxy_json.empty()) {
    w.key("Proxy");
    w.raw(s.proxy_json);
  }
  if (!s.connect_json.empty()) {
    w.key("Connect");
    w.raw(s.connect_json);
  }
  write_locality(w, "Locality", s.locality);
  if (!datacenter.empty()) w.field("Datacenter", datacenter);
  if (with_indexes) {
    w.field("CreateIndex", s.raft.create_index);
    w.field("ModifyIndex", s.raft.modify_index);
  }
  w.end_object();
}

void write_check_definition(JsonWriter& w, const CheckDefinition& d) {
  w.begin_object();
  auto str = [&](const char* k, const std::string& v) {
    if (!v.empty()) w.field(k, v);
  };
  auto flag = [&](const char* k, bool v) {
    if (v) w.field(k, true);
  };
  auto dur = [&](const char* k, Nanos v) {
    if (v != 0) w.field(k, format_duration(v));
  };
  str("HTTP", d.http);
  str("TLSServerName", d.tls_server_name);
  flag("TLSSkipVerify", d.tls_skip_verify);
  if (!d.header.empty()) {
    w.key("Header");
    w.begin_object();
    for (const auto& [k, vals] : d.header) w.string_array(k, vals);
    w.end_object();
  }
  str("Method", d.method);
  str("Body", d.body);
  flag("DisableRedirects", d.disable_redirects);
  str("TCP", d.tcp);
  str("UDP", d.udp);
  str("H2PING", d.h2ping);
  flag("H2PingUseTLS", d.h2ping_use_tls);
  dur("Interval", d.interval);
  if (d.output_max_size) w.field("OutputMaxSize", d.output_max_size);
  dur("Timeout", d.timeout);
  dur("DeregisterCriticalServiceAfter", d.deregister_critical_service_after);
  if (!d.args.empty()) w.string_array("ScriptArgs", d.args);
  str("DockerContainerID", d.docker_container_id);
  str("Shell", d.shell);
  str("GRPC", d.grpc);
  flag("GRPCUseTLS", d.grpc_use_tls);
  str("AliasNode", d.alias_node);
  str("AliasService", d.alias_service);
  dur("TTL", d.ttl);
  w.end_object();
}

void write_check(JsonWriter& w, const Check& c, Empties empties) {
  w.begin_object();
  w.field("Node", c.node);
  w.field("CheckID", c.check_id);
  w.field("Name", c.name);
  w.field("Status", c.status);
  w.field("Notes", c.notes);
  w.field("Output", c.output);
  w.field("ServiceID", c.service_id);
  w.field("ServiceName", c.service_name);
  if (c.service_tags.empty() && empties == Empties::as_null) {
    w.key("ServiceTags");
    w.null();
  } else {
    w.string_array("ServiceTags", c.service_tags);
  }
  w.field("Type", c.type);
  w.field("Interval", c.definition->interval ? format_duration(c.definition->interval) : "");
  w.field("Timeout", c.definition->timeout ? format_duration(c.definition->timeout) : "");
  w.field("ExposedPort", 0);
  w.key("Definition");
  write_check_definition(w, *c.definition);
  w.field("CreateIndex", c.raft.create_index);
  w.field("ModifyIndex", c.raft.modify_index);
  w.end_object();
}

void write_service_node(JsonWriter& w, const Node& n, const Service& s) {
  w.begin_object();
  w.field("ID", n.id);
  w.field("Node", n.name);
  w.field("Address", n.address);
  w.field("Datacenter", n.datacenter);
  string_map(w, "TaggedAddresses", n.tagged_addresses);
  string_map(w, "NodeMeta", n.meta);
  w.field("ServiceKind", s.kind);
  w.field("ServiceID", s.id);
  w.field("ServiceName", s.name);
  w.string_array("ServiceTags", s.tags);
  w.field("ServiceAddress", s.address);
  w.key("ServiceTaggedAddresses");
  tagged_service_addresses(w, s.tagged_addresses);
  w.key("ServiceWeights");
  weights(w, s.weights);
  string_map(w, "ServiceMeta", s.meta);
  w.field("ServicePort", s.port);
  w.field("ServiceSocketPath", s.socket_path);
  w.field("ServiceEnableTagOverride", s.enable_tag_override);
  w.key("ServiceProxy");
  if (s.proxy_json.empty()) {
    w.begin_object();
    w.end_object();
  } else {
    w.raw(s.proxy_json);
  }
  w.key("ServiceConnect");
  if (s.connect_json.empty()) {
    w.begin_object();
    w.end_object();
  } else {
    w.raw(s.connect_json);
  }
  write_locality(w, "ServiceLocality", s.locality);
  w.field("CreateIndex", s.raft.create_index);
  w.field("ModifyIndex", s.raft.modify_index);
  w.end_object();
}

}  // namespace cairn::state
