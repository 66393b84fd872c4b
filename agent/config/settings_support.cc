#include "agent/config/settings_support.h"

#include <algorithm>

#include "common/json_writer.h"

namespace cairn::config {

namespace {

constexpr Support kDone = Support::implemented;
constexpr Support kIgnored = Support::no_effect;
constexpr Support kRefused = Support::rejected;

// Every flag of `cairn agent`. The parser knows no other flag.
constexpr SettingClass kFlags[] = {
    {"config-file", kDone, true, "loads a config file"},
    {"config-dir", kDone, true, "loads a directory of config files"},
    {"config-format", kDone, true, "forces the format of every config file (json, yaml or hcl)"},
    {"data-dir", kDone, true, "where state is persisted"},
    {"node", kDone, true, "node name"},
    {"node-id", kDone, true, "node ID"},
    {"datacenter", kDone, true, "datacenter"},
    {"bind", kDone, true, "gossip bind address"},
    {"advertise", kDone, true, "advertised address"},
    {"client", kDone, true, "HTTP and DNS listen addresses"},
    {"retry-join", kDone, true, "LAN join with retries"},
    {"retry-interval", kDone, true, "longest wait between retry-join attempts"},
    {"join", kDone, true, "LAN join at start"},
    {"retry-join-wan", kDone, true, "WAN join with retries"},
    {"join-wan", kDone, true, "WAN join at start"},
    {"encrypt", kDone, true, "gossip key"},
    {"domain", kDone, true, "DNS domain"},
    {"alt-domain", kDone, true, "second DNS domain"},
    {"recursor", kDone, true, "upstream DNS server"},
    {"http-port", kDone, true, "HTTP port"},
    {"dns-port", kDone, true, "DNS port"},
    {"serf-lan-port", kDone, true, "LAN gossip port"},
    {"serf-wan-port", kDone, true, "WAN gossip port"},
    {"server-port", kDone, true, "server port advertised in gossip tags"},
    {"log-level", kDone, true, "log level"},
    {"bootstrap-expect", kDone, true, "servers expected, in gossip tags"},
    {"node-meta", kDone, true, "node metadata"},
    {"dev", kDone, false, "in-memory single-node server"},
    {"server", kDone, false, "server role"},
    {"log-json", kDone, false, "JSON log lines"},
    {"bootstrap", kDone, false, "bootstrap_expect = 1"},
    {"enable-script-checks", kDone, false, "allows script checks"},
    {"enable-local-script-checks", kDone, false, "allows script checks from config files"},
    {"disable-host-node-id", kDone, false,
     "node IDs are random (true, Consul's default); false is named in the warning"},
    {"help", kDone, false, "prints the usage"},
    {"h", kDone, false, "prints the usage"},
    {"list-settings", kDone, false, "prints this classification as JSON"},
    {"ui", kIgnored, false, "ui"},
    {"rejoin", kIgnored, false, "rejoin_after_leave"},
};

// Every agent config key the decoder reads (agent/config/config.cc).
constexpr SettingClass kKeys[] = {
    {"datacenter", kDone, false, ""},
    {"node_name", kDone, false, ""},
    {"node_id", kDone, false, ""},
    {"node_meta", kDone, false, ""},
    {"data_dir", kDone, false, ""},
    {"server", kDone, false, ""},
    {"bootstrap_expect", kDone, false, ""},
    {"bootstrap", kDone, false, ""},
    {"retry_join", kDone, false, ""},
    {"start_join", kDone, false, ""},
    {"retry_interval", kDone, false, ""},
    {"retry_join_wan", kDone, false, ""},
    {"start_join_wan", kDone, false, ""},
    {"retry_interval_wan", kDone, false, ""},
    {"gossip_lan", kDone, false, ""},
    {"gossip_wan", kDone, false, ""},
    {"gossip_lan.probe_interval", kDone, false, ""},
    {"gossip_lan.probe_timeout", kDone, false, ""},
    {"gossip_lan.gossip_interval", kDone, false, ""},
    {"gossip_lan.suspicion_mult", kDone, false, ""},
    {"gossip_lan.gossip_nodes", kDone, false, ""},
    {"gossip_lan.retransmit_mult", kDone, false, ""},
    {"gossip_wan.probe_interval", kDone, false, ""},
    {"gossip_wan.probe_timeout", kDone, false, ""},
    {"gossip_wan.gossip_interval", kDone, false, ""},
    {"gossip_wan.suspicion_mult", kDone, false, ""},
    {"gossip_wan.gossip_nodes", kDone, false, ""},
    {"gossip_wan.retransmit_mult", kDone, false, ""},
    // cairn's own bounds on inbound gossip streams (issue 12).
    {"gossip_lan.max_inbound_streams", kDone, false, ""},
    {"gossip_lan.max_inbound_streams_per_source", kDone, false, ""},
    {"gossip_lan.max_stream_bytes", kDone, false, ""},
    {"gossip_lan.max_stream_buffer_bytes", kDone, false, ""},
    {"gossip_wan.max_inbound_streams", kDone, false, ""},
    {"gossip_wan.max_inbound_streams_per_source", kDone, false, ""},
    {"gossip_wan.max_stream_bytes", kDone, false, ""},
    {"gossip_wan.max_stream_buffer_bytes", kDone, false, ""},
    {"leave_on_terminate", kDone, false, ""},
    {"bind_addr", kDone, false, ""},
    {"advertise_addr", kDone, false, ""},
    {"client_addr", kDone, false, ""},
    {"ports", kDone, false, ""},
    {"ports.http", kDone, false, ""},
    {"ports.dns", kDone, false, ""},
    {"ports.serf_lan", kDone, false, ""},
    {"ports.serf_wan", kDone, false, ""},
    {"ports.server", kDone, false, ""},
    // cairn's own: the etcd member a server runs (docs/packaging.md).
    {"ports.etcd_peer", kDone, false, ""},
    {"ports.etcd_client", kDone, false, ""},
    {"domain", kDone, false, ""},
    {"alt_domain", kDone, false, ""},
    {"recursors", kDone, false, ""},
    {"dns_config", kDone, false, ""},
    {"dns_config.node_ttl", kDone, false, ""},
    {"dns_config.service_ttl", kDone, false, ""},
    {"dns_config.only_passing", kDone, false, ""},
    {"dns_config.enable_truncate", kDone, false, ""},
    {"dns_config.udp_answer_limit", kDone, false, ""},
    {"dns_config.udp_loops", kDone, false, ""},
    {"dns_config.recursor_timeout", kDone, false, ""},
    {"dns_config.recursor_strategy", kDone, false, ""},
    {"dns_config.disable_compression", kDone, false, ""},
    {"dns_config.a_record_limit", kDone, false, ""},
    {"dns_config.enable_additional_node_meta_txt", kDone, false, ""},
    {"dns_config.soa", kDone, false, ""},
    {"dns_config.soa.expire", kDone, false, ""},
    {"dns_config.soa.min_ttl", kDone, false, ""},
    {"dns_config.soa.refresh", kDone, false, ""},
    {"dns_config.soa.retry", kDone, false, ""},
    // cairn's own DNS limits, each counted (issue 13).
    {"dns_config.tcp_max_connections", kDone, false, ""},
    {"dns_config.tcp_idle_timeout", kDone, false, ""},
    {"dns_config.tcp_max_queued_bytes", kDone, false, ""},
    {"dns_config.tcp_max_in_flight", kDone, false, ""},
    {"dns_config.recursor_max_in_flight", kDone, false, ""},
    {"performance", kDone, false, ""},
    {"performance.raft_multiplier", kDone, false, "scales the etcd members' heartbeat and election timeout"},
    {"performance.leave_drain_time", kIgnored, false, "performance: {leave_drain_time: 5s}"},
    {"performance.rpc_hold_timeout", kIgnored, false, "performance: {rpc_hold_timeout: 7s}"},
    // cairn's own: the etcd member a server runs.
    {"etcd", kDone, false, ""},
    {"etcd.quota_backend_bytes", kDone, false, "etcd's --quota-backend-bytes"},
    {"encrypt", kDone, false, ""},
    {"acl", kDone, false, ""},
    {"tls", kDone, false, ""},
    {"tls.ca_file", kDone, false, ""},
    {"tls.ca_path", kDone, false, ""},
    {"tls.defaults", kDone, false, ""},
    {"tls.internal_rpc", kDone, false, ""},
    {"tls.https", kDone, false, ""},
    {"tls.grpc", kDone, false, ""},
    {"enable_script_checks", kDone, false, ""},
    {"enable_local_script_checks", kDone, false, ""},
    {"check_output_max_size", kDone, false, ""},
    {"session_ttl_min", kDone, false, ""},
    {"telemetry", kDone, false, ""},
    {"telemetry.statsd_address", kDone, false, ""},
    {"telemetry.dogstatsd_addr", kDone, false, ""},
    {"telemetry.dogstatsd_tags", kDone, false, ""},
    {"telemetry.disable_hostname", kDone, false, ""},
    {"telemetry.metrics_prefix", kDone, false, ""},
    {"telemetry.metrics_interval", kDone, false, ""},
    {"ui_config", kDone, false, ""},
    {"limits", kDone, false, ""},
    {"limits.http_max_conns_per_client", kDone, false, ""},
    {"limits.http_max_conns", kDone, false, ""},
    {"limits.http_first_byte_timeout", kDone, false, ""},
    {"limits.http_read_timeout", kDone, false, ""},
    {"limits.http_idle_timeout", kDone, false, ""},
    {"http_config", kDone, false, ""},
    {"http_config.max_header_bytes", kDone, false, ""},
    {"http_config.max_body_bytes", kDone, false, ""},
    {"http_config.response_headers", kDone, false, ""},
    {"log_level", kDone, false, ""},
    {"log_json", kDone, false, ""},
    {"service", kDone, false, ""},
    {"services", kDone, false, ""},
    {"check", kDone, false, ""},
    {"checks", kDone, false, ""},
    {"disable_host_node_id", kDone, false, "true is cairn's only behaviour; false is a warning"},
    // Accepted, named in the start-up warning.
    {"ui", kIgnored, false, "ui: true"},
    {"ui_config.enabled", kIgnored, false, "ui_config: {enabled: true}"},
    {"ui_config.dir", kIgnored, false, "ui_config: {dir: /usr/share/consul-ui}"},
    {"ui_config.content_path", kIgnored, false, "ui_config: {content_path: /ui/}"},
    {"rejoin_after_leave", kIgnored, false, "rejoin_after_leave: true"},
    {"ports.grpc", kIgnored, false, "ports: {grpc: 8502}"},
    {"dns_config.allow_stale", kIgnored, false, "dns_config: {allow_stale: false}"},
    {"dns_config.max_stale", kIgnored, false, "dns_config: {max_stale: 5s}"},
    {"dns_config.use_cache", kIgnored, false, "dns_config: {use_cache: true}"},
    {"dns_config.cache_max_age", kIgnored, false, "dns_config: {cache_max_age: 10s}"},
    {"acl.default_policy", kIgnored, false, "acl: {default_policy: deny}"},
    {"acl.down_policy", kIgnored, false, "acl: {down_policy: deny}"},
    {"acl.token_ttl", kIgnored, false, "acl: {token_ttl: 60s}"},
    {"acl.enable_token_persistence", kIgnored, false, "acl: {enable_token_persistence: true}"},
    {"acl.tokens", kIgnored, false, "acl: {tokens: {agent: abc}}"},
    {"tls.tls_min_version", kIgnored, false, "tls: {defaults: {tls_min_version: TLSv1_2}}"},
    {"tls.tls_cipher_suites", kIgnored, false, "tls: {defaults: {tls_cipher_suites: x}}"},
    {"telemetry.prometheus_retention_time", kIgnored, false,
     "telemetry: {prometheus_retention_time: 60s}"},
    {"disable_update_check", kIgnored, false, "disable_update_check: false"},
    {"disable_remote_exec", kIgnored, false, "disable_remote_exec: false"},
    // Refused: running anyway would be less safe than the config promises.
    {"acl.enabled", kRefused, false, "acl: {enabled: true}"},
    {"acl_datacenter", kRefused, false, "acl_datacenter: dc1"},
    {"acl_default_policy", kRefused, false, "acl_default_policy: deny"},
    {"acl_down_policy", kRefused, false, "acl_down_policy: deny"},
    {"acl_master_token", kRefused, false, "acl_master_token: abc"},
    {"acl_token", kRefused, false, "acl_token: abc"},
    {"acl_agent_token", kRefused, false, "acl_agent_token: abc"},
    {"ports.https", kRefused, false, "ports: {https: 8501}"},
    {"tls.cert_file", kRefused, false, "tls: {defaults: {cert_file: /etc/cert.pem}}"},
    {"tls.key_file", kRefused, false, "tls: {defaults: {key_file: /etc/key.pem}}"},
    {"tls.verify_incoming", kRefused, false, "tls: {defaults: {verify_incoming: true}}"},
    {"tls.verify_outgoing", kRefused, false, "tls: {defaults: {verify_outgoing: true}}"},
    {"tls.verify_server_hostname", kRefused, false,
     "tls: {internal_rpc: {verify_server_hostname: true}}"},
};

constexpr const char* kNoAcls =
    "ACLs are not built yet (a later issue): a config that enables them must not run open; "
    "remove the ACL settings to run without ACLs";
constexpr const char* kNoTls =
    "TLS for the agent's HTTP API and RPC arrives with the security issue: refusing to run "
    "in plain text what the config asks to protect";

}  // namespace

std::span<const SettingClass> flag_classes() {
  return kFlags;
}
std::span<const SettingClass> key_classes() {
  return kKeys;
}

const SettingClass* find_flag(std::string_view name) {
  for (const auto& f : kFlags)
    if (f.name == name) return &f;
  return nullptr;
}

std::string_view support_name(Support s) {
  switch (s) {
    case Support::implemented:
      return "implemented";
    case Support::no_effect:
      return "no_effect";
    case Support::rejected:
      return "rejected";
  }
  return "";
}

const char* rejected_legacy_key(std::string_view k) {
  if (k == "acldatacenter" || k == "acldefaultpolicy" || k == "acldownpolicy" ||
      k == "aclmastertoken" || k == "acltoken" || k == "aclagenttoken")
    return kNoAcls;
  return nullptr;
}

std::vector<std::string> no_effect_settings(const Config& cfg) {
  std::vector<std::string> out = cfg.no_effect_keys;
  const AclConfig defaults_acl;
  const DnsConfig defaults_dns;
  auto add = [&out](bool when, const char* name) {
    if (when) out.emplace_back(name);
  };
  add(cfg.ui, "ui");
  add(cfg.rejoin_after_leave, "rejoin_after_leave");
  add(cfg.ports.grpc > 0, "ports.grpc");
  add(!cfg.dns_config.allow_stale, "dns_config.allow_stale");
  add(cfg.dns_config.max_stale != defaults_dns.max_stale, "dns_config.max_stale");
  add(cfg.acl.default_policy != defaults_acl.default_policy, "acl.default_policy");
  add(cfg.acl.down_policy != defaults_acl.down_policy, "acl.down_policy");
  add(cfg.acl.token_ttl != defaults_acl.token_ttl, "acl.token_ttl");
  add(cfg.acl.enable_token_persistence, "acl.enable_token_persistence");
  add(!cfg.acl.tokens.empty(), "acl.tokens");
  add(cfg.telemetry.prometheus_retention_time > 0, "telemetry.prometheus_retention_time");
  add(!cfg.disable_host_node_id, "disable_host_node_id");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string unsupported_settings(const Config& cfg) {
  if (cfg.acl.enabled) return std::string("acl.enabled: ") + kNoAcls;
  if (cfg.ports.https > 0) return std::string("ports.https: ") + kNoTls;
  const TlsConfig& t = cfg.tls;
  if (!t.cert_file.empty()) return std::string("tls.cert_file: ") + kNoTls;
  if (!t.key_file.empty()) return std::string("tls.key_file: ") + kNoTls;
  if (t.verify_incoming) return std::string("tls.verify_incoming: ") + kNoTls;
  if (t.verify_outgoing) return std::string("tls.verify_outgoing: ") + kNoTls;
  if (t.verify_server_hostname) return std::string("tls.verify_server_hostname: ") + kNoTls;
  return "";
}

std::string settings_table_json() {
  std::string out;
  JsonWriter w(out, true);
  auto list = [&w](const char* key, std::span<const SettingClass> items, bool flags) {
    w.key(key);
    w.begin_array();
    for (const auto& s : items) {
      w.begin_object();
      w.field("name", std::string(s.name));
      w.field("class", std::string(support_name(s.support)));
      if (flags) w.field("takes_value", s.takes_value);
      w.field("example", std::string(s.example));
      w.end_object();
    }
    w.end_array();
  };
  w.begin_object();
  list("flags", kFlags, true);
  list("keys", kKeys, false);
  w.end_object();
  out += '\n';
  return out;
}

}  // namespace cairn::config
