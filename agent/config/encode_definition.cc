#include "agent/config/encode_definition.h"

#include "agent/state/encode.h"

namespace cairn::config {

void write_check_spec(JsonWriter& w, const CheckSpec& c) {
  w.begin_object();
  w.field("CheckID", c.id);
  w.field("Name", c.name);
  if (!c.notes.empty()) w.field("Notes", c.notes);
  if (!c.status.empty()) w.field("Status", c.status);
  if (!c.service_id.empty()) w.field("ServiceID", c.service_id);
  if (!c.token.empty()) w.field("Token", c.token);
  const state::CheckDefinition& d = *c.def;
  if (d.success_before_passing) w.field("SuccessBeforePassing", d.success_before_passing);
  if (d.failures_before_warning) w.field("FailuresBeforeWarning", d.failures_before_warning);
  if (d.failures_before_critical) w.field("FailuresBeforeCritical", d.failures_before_critical);
  // The runner fields, as Consul's catalog Definition (decoded back the same way).
  w.key("Definition");
  state::write_check_definition(w, d);
  w.end_object();
}

void write_service_definition(JsonWriter& w, const ServiceDefinition& def) {
  const state::Service& s = def.service;
  w.begin_object();
  if (!s.kind.empty()) w.field("Kind", s.kind);
  w.field("ID", s.id);
  w.field("Name", s.name);
  w.string_array("Tags", s.tags);
  w.field("Address", s.address);
  if (!s.tagged_addresses.empty()) {
    w.key("TaggedAddresses");
    w.begin_object();
    for (const auto& [k, a] : s.tagged_addresses) {
      w.key(k);
      w.begin_object();
      w.field("Address", a.address);
      w.field("Port", a.port);
      w.end_object();
    }
    w.end_object();
  }
  w.key("Meta");
  w.begin_object();
  for (const auto& [k, v] : s.meta) w.field(k, v);
  w.end_object();
  w.field("Port", s.port);
  if (!s.socket_path.empty()) w.field("SocketPath", s.socket_path);
  w.key("Weights");
  w.begin_object();
  w.field("Passing", s.weights.passing);
  w.field("Warning", s.weights.warning);
  w.end_object();
  w.field("EnableTagOverride", s.enable_tag_override);
  if (!s.proxy_json.empty()) {
    w.key("Proxy");
    w.raw(s.proxy_json);
  }
  if (!s.connect_json.empty()) {
    w.key("Connect");
    w.raw(s.connect_json);
  }
  state::write_locality(w, "Locality", s.locality);
  if (!def.token.empty()) w.field("Token", def.token);
  w.key("Checks");
  w.begin_array();
  for (const auto& c : def.checks) write_check_spec(w, c);
  w.end_array();
  w.end_object();
}

}  // namespace cairn::config
