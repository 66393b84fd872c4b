#include "agent/config/settings_support.h"

#include <algorithm>

#include "common/json_writer.h"
#include "common/value.h"

namespace cairn::config {

namespace {

constexpr Support kDone = Support::implemented;
constexpr Support kIgnored = Support::no_effect;
constexpr Support kRefused = Support::rejected;

constexpr const char* kNoAcls =
    "ACLs are not built yet (a later issue): a config that enables them must not run open; "
    "remove the ACL settings to run without ACLs";
constexpr const char* kNoTls =
    "TLS for the agent's HTTP API and RPC arrives with the security issue: refusing to run "
    "in plain text what the config asks to protect";
// Reasons shared by several keys, for the warning's docs and -list-settings.
constexpr const char* kNoUi = "no web UI yet: nothing advertises one";
constexpr const char* kNoMesh =
    "Connect (service mesh: CA, intentions, proxies, gateways) is not built; no listener or "
    "certificate is created";
constexpr const char* kNoGrpc = "cairn serves no gRPC (xDS) API";
constexpr const char* kNoHttps = "no HTTPS listener without cert_file and key_file (refused)";
constexpr const char* kEnterprise =
    "a Consul Enterprise setting: Consul CE also accepts it with a warning and no effect";
constexpr const char* kEtcdLog =
    "servers replicate through etcd, which keeps and compacts its own log";
constexpr const char* kLogsToStderr =
    "cairn logs to stderr (the systemd journal keeps and rotates it)";
constexpr const char* kNonUser =
    "one of Consul's internal (non-user) values, set by its own tests; cairn reports its own";
constexpr const char* kAclOff =
    "ACLs are not built yet; harmless while acl.enabled is false (enabled: true is refused)";
constexpr const char* kNoTelemetrySink =
    "cairn sends metrics to statsd and DogStatsD and serves Prometheus; not to this sink";
constexpr const char* kFixedQueryTimes =
    "blocking queries wait 5 minutes by default and at most 10 (Consul's defaults), fixed";
constexpr const char* kNotSecuredThisWay =
    "cairn binds gossip on bind_addr only and cannot restrict it this way: running without the "
    "restriction would be less safe than the config promises";
constexpr const char* kAccessRule =
    "an access restriction cairn does not enforce yet: running without it would expose what the "
    "config protects";

// Every flag of `cairn agent`, and Consul's that cairn only classifies. The
// parser knows no other flag.
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
    {"retry-interval-wan", kDone, true, "longest wait between retry-join-wan attempts"},
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
    {"pid-file", kDone, true, "writes the agent's PID at start, removes it at a graceful exit"},
    {"hcl", kDone, true, "an HCL config fragment, merged after the config files"},
    {"raft-protocol", kDone, true, "checked: 3 is the only protocol (servers answer as it)"},
    {"check_output_max_size", kDone, true, "largest check output kept"},
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
    // Accepted, named in the start-up warning (the example is the name it gives).
    {"ui", kIgnored, false, "ui", kNoUi},
    {"ui-dir", kIgnored, true, "ui_config.dir", kNoUi},
    {"ui-content-path", kIgnored, true, "ui_config.content_path", kNoUi},
    {"rejoin", kIgnored, false, "rejoin_after_leave", "no gossip snapshot is kept yet"},
    {"advertise-wan", kIgnored, true, "advertise_addr_wan",
     "the WAN pool advertises the LAN address"},
    {"https-port", kIgnored, true, "ports.https", kNoHttps},
    {"grpc-port", kIgnored, true, "ports.grpc", kNoGrpc},
    {"grpc-tls-port", kIgnored, true, "ports.grpc_tls", kNoGrpc},
    {"log-file", kIgnored, true, "log_file", kLogsToStderr},
    {"log-rotate-bytes", kIgnored, true, "log_rotate_bytes", kLogsToStderr},
    {"log-rotate-duration", kIgnored, true, "log_rotate_duration", kLogsToStderr},
    {"log-rotate-max-files", kIgnored, true, "log_rotate_max_files", kLogsToStderr},
    {"syslog", kIgnored, false, "enable_syslog", kLogsToStderr},
    {"default-query-time", kIgnored, true, "default_query_time", kFixedQueryTimes},
    {"max-query-time", kIgnored, true, "max_query_time", kFixedQueryTimes},
    {"disable-keyring-file", kIgnored, false, "disable_keyring_file",
     "cairn keeps no keyring file: the key comes from encrypt on every start"},
    {"retry-max", kIgnored, true, "retry_max", "cairn retries a join until it succeeds"},
    {"retry-max-wan", kIgnored, true, "retry_max_wan", "cairn retries a join until it succeeds"},
    {"protocol", kIgnored, true, "protocol", "cairn speaks Consul's RPC protocol version 2"},
    {"primary-gateway", kIgnored, true, "primary_gateways", kNoMesh},
    {"segment", kIgnored, true, "segment", kEnterprise},
    {"non-voting-server", kIgnored, false, "read_replica", kEnterprise},
    {"read-replica", kIgnored, false, "read_replica", kEnterprise},
    {"auto-reload-config", kIgnored, false, "auto_reload_config",
     "reload with SIGHUP or `cairn reload`"},
    {"sidecar-min-port", kIgnored, true, "ports.sidecar_min_port", kNoMesh},
    {"sidecar-max-port", kIgnored, true, "ports.sidecar_max_port", kNoMesh},
    {"expose-min-port", kIgnored, true, "ports.expose_min_port", kNoMesh},
    {"expose-max-port", kIgnored, true, "ports.expose_max_port", kNoMesh},
    // Refused with the reason.
    {"serf-lan-bind", kRefused, true, "-serf-lan-bind=10.0.0.1", kNotSecuredThisWay},
    {"serf-wan-bind", kRefused, true, "-serf-wan-bind=10.0.0.1", kNotSecuredThisWay},
    {"serf-lan-allowed-cidrs", kRefused, true, "-serf-lan-allowed-cidrs=10.0.0.0/8",
     kNotSecuredThisWay},
    {"serf-wan-allowed-cidrs", kRefused, true, "-serf-wan-allowed-cidrs=10.0.0.0/8",
     kNotSecuredThisWay},
};

// Every agent config key the decoder reads (agent/config/config.cc), and
// every other key of Consul's agent configuration, classified.
constexpr SettingClass kKeys[] = {
    {"datacenter", kDone, false, ""},
    {"primary_datacenter", kDone, false, "reported in /v1/agent/self (default: datacenter)"},
    {"node_name", kDone, false, ""},
    {"node_id", kDone, false, ""},
    {"node_meta", kDone, false, ""},
    {"data_dir", kDone, false, ""},
    {"pid_file", kDone, false, "written with the PID at start, removed at a graceful exit"},
    {"server", kDone, false, ""},
    {"bootstrap_expect", kDone, false, ""},
    {"bootstrap", kDone, false, ""},
    {"raft_protocol", kDone, false, "checked: only 3 (Consul's current protocol) is accepted"},
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
    {"skip_leave_on_interrupt", kDone, false,
     "SIGINT stops without leaving; default true on servers, false on clients"},
    {"bind_addr", kDone, false, ""},
    {"advertise_addr", kDone, false, ""},
    {"client_addr", kDone, false, ""},
    {"addresses", kDone, false, ""},
    {"addresses.http", kDone, false, "HTTP API listeners: IPs and unix:// sockets"},
    {"addresses.dns", kDone, false, "DNS listeners (IPs)"},
    {"unix_sockets", kDone, false, ""},
    {"unix_sockets.user", kDone, false, "owner of the HTTP API's unix sockets"},
    {"unix_sockets.group", kDone, false, "group of the HTTP API's unix sockets"},
    {"unix_sockets.mode", kDone, false, "permissions of the HTTP API's unix sockets"},
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
    {"performance.raft_multiplier", kDone, false,
     "scales the etcd members' heartbeat and election timeout"},
    {"performance.leave_drain_time", kIgnored, false, "performance: {leave_drain_time: 5s}",
     "a leaving server closes its RPC connections on cairn's own schedule"},
    {"performance.rpc_hold_timeout", kIgnored, false, "performance: {rpc_hold_timeout: 7s}",
     "client agents retry a call on the next server at once, within their own 15 s deadline"},
    // cairn's own: the etcd member a server runs.
    {"etcd", kDone, false, ""},
    {"etcd.quota_backend_bytes", kDone, false, "etcd's --quota-backend-bytes"},
    // cairn's own: a client agent's streamed view of the catalog.
    {"client_view", kDone, false, ""},
    {"client_view.subscription_ttl", kDone, false, "an unused service leaves the view (20m)"},
    {"client_view.max_subscriptions", kDone, false, "services held at once (2048; at most 16384)"},
    {"encrypt", kDone, false, ""},
    {"encrypt_verify_incoming", kDone, false, "false: accept plaintext gossip too"},
    {"encrypt_verify_outgoing", kDone, false, "false: send plaintext gossip"},
    {"acl", kDone, false, ""},
    {"tls", kDone, false, ""},
    {"tls.ca_file", kDone, false, ""},
    {"tls.ca_path", kDone, false, ""},
    {"tls.defaults", kDone, false, ""},
    {"tls.internal_rpc", kDone, false, ""},
    {"tls.https", kDone, false, ""},
    {"tls.grpc", kDone, false, ""},
    // Consul's legacy top-level TLS keys: the CA is used as tls.defaults' is.
    {"ca_file", kDone, false, "as tls.defaults.ca_file: trusted by HTTPS and gRPC checks"},
    {"ca_path", kDone, false, "as tls.defaults.ca_path"},
    {"enable_script_checks", kDone, false, ""},
    {"enable_local_script_checks", kDone, false, ""},
    {"check_output_max_size", kDone, false, ""},
    {"check_update_interval", kDone, false, ""},
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
    {"ui", kIgnored, false, "ui: true", kNoUi},
    {"ui_config.enabled", kIgnored, false, "ui_config: {enabled: true}", kNoUi},
    {"ui_config.dir", kIgnored, false, "ui_config: {dir: /usr/share/consul-ui}", kNoUi},
    {"ui_config.content_path", kIgnored, false, "ui_config: {content_path: /ui/}", kNoUi},
    {"ui_config.metrics_provider", kIgnored, false, "ui_config: {metrics_provider: prometheus}",
     kNoUi},
    {"ui_config.metrics_provider_files", kIgnored, false,
     "ui_config: {metrics_provider_files: [/x.js]}", kNoUi},
    {"ui_config.metrics_provider_options_json", kIgnored, false,
     "ui_config: {metrics_provider_options_json: '{}x'}", kNoUi},
    {"ui_config.metrics_proxy", kIgnored, false,
     "ui_config: {metrics_proxy: {base_url: 'http://p:9090'}}", kNoUi},
    {"ui_config.dashboard_url_templates", kIgnored, false,
     "ui_config: {dashboard_url_templates: {service: 'http://d'}}", kNoUi},
    {"ui_dir", kIgnored, false, "ui_dir: /usr/share/consul-ui", kNoUi},
    {"ui_content_path", kIgnored, false, "ui_content_path: /ui/", kNoUi},
    {"rejoin_after_leave", kIgnored, false, "rejoin_after_leave: true",
     "no gossip snapshot is kept yet"},
    {"ports.https", kIgnored, false, "ports: {https: 8501}", kNoHttps},
    {"ports.grpc", kIgnored, false, "ports: {grpc: 8502}", kNoGrpc},
    {"ports.grpc_tls", kIgnored, false, "ports: {grpc_tls: 8503}", kNoGrpc},
    {"ports.proxy_min_port", kIgnored, false, "ports: {proxy_min_port: 20000}", kNoMesh},
    {"ports.proxy_max_port", kIgnored, false, "ports: {proxy_max_port: 20255}", kNoMesh},
    {"ports.sidecar_min_port", kIgnored, false, "ports: {sidecar_min_port: 21000}", kNoMesh},
    {"ports.sidecar_max_port", kIgnored, false, "ports: {sidecar_max_port: 21255}", kNoMesh},
    {"ports.expose_min_port", kIgnored, false, "ports: {expose_min_port: 21500}", kNoMesh},
    {"ports.expose_max_port", kIgnored, false, "ports: {expose_max_port: 21755}", kNoMesh},
    {"addresses.https", kIgnored, false, "addresses: {https: 0.0.0.0}", kNoHttps},
    {"addresses.grpc", kIgnored, false, "addresses: {grpc: 0.0.0.0}", kNoGrpc},
    {"addresses.grpc_tls", kIgnored, false, "addresses: {grpc_tls: 0.0.0.0}", kNoGrpc},
    {"dns_config.allow_stale", kIgnored, false, "dns_config: {allow_stale: false}",
     "every server answers from its own store, which follows etcd closely"},
    {"dns_config.max_stale", kIgnored, false, "dns_config: {max_stale: 5s}",
     "every server answers from its own store, which follows etcd closely"},
    {"dns_config.use_cache", kIgnored, false, "dns_config: {use_cache: true}",
     "DNS is always answered from the agent's own store"},
    {"dns_config.cache_max_age", kIgnored, false, "dns_config: {cache_max_age: 10s}",
     "DNS is always answered from the agent's own store"},
    {"dns_config.prefer_namespace", kIgnored, false, "dns_config: {prefer_namespace: true}",
     kEnterprise},
    {"acl.default_policy", kIgnored, false, "acl: {default_policy: deny}", kAclOff},
    {"acl.down_policy", kIgnored, false, "acl: {down_policy: deny}", kAclOff},
    {"acl.token_ttl", kIgnored, false, "acl: {token_ttl: 60s}", kAclOff},
    {"acl.policy_ttl", kIgnored, false, "acl: {policy_ttl: 60s}", kAclOff},
    {"acl.role_ttl", kIgnored, false, "acl: {role_ttl: 60s}", kAclOff},
    {"acl.disabled_ttl", kIgnored, false, "acl: {disabled_ttl: 60s}", kAclOff},
    {"acl.enable_token_persistence", kIgnored, false, "acl: {enable_token_persistence: true}",
     kAclOff},
    {"acl.enable_token_replication", kIgnored, false, "acl: {enable_token_replication: true}",
     kAclOff},
    {"acl.enable_key_list_policy", kIgnored, false, "acl: {enable_key_list_policy: true}", kAclOff},
    {"acl.msp_disable_bootstrap", kIgnored, false, "acl: {msp_disable_bootstrap: true}",
     kEnterprise},
    {"acl.tokens", kIgnored, false, "acl: {tokens: {agent: abc}}", kAclOff},
    {"tls.tls_min_version", kIgnored, false, "tls: {defaults: {tls_min_version: TLSv1_2}}",
     "no TLS listener yet"},
    {"tls.tls_cipher_suites", kIgnored, false, "tls: {defaults: {tls_cipher_suites: x}}",
     "no TLS listener yet"},
    {"tls.use_auto_cert", kIgnored, false, "tls: {grpc: {use_auto_cert: true}}", kNoGrpc},
    {"tls_min_version", kIgnored, false, "tls_min_version: tls12", "no TLS listener yet"},
    {"tls_cipher_suites", kIgnored, false, "tls_cipher_suites: x", "no TLS listener yet"},
    {"tls_prefer_server_cipher_suites", kIgnored, false, "tls_prefer_server_cipher_suites: true",
     "no TLS listener yet"},
    {"server_name", kIgnored, false, "server_name: consul.example", "no TLS listener yet"},
    {"enable_agent_tls_for_checks", kIgnored, false, "enable_agent_tls_for_checks: true",
     "no agent certificate to present (cert_file is refused)"},
    {"telemetry.prometheus_retention_time", kIgnored, false,
     "telemetry: {prometheus_retention_time: 60s}",
     "/v1/agent/metrics?format=prometheus is always served"},
    {"telemetry.statsite_address", kIgnored, false, "telemetry: {statsite_address: 'x:8125'}",
     kNoTelemetrySink},
    {"telemetry.circonus_api_app", kIgnored, false, "telemetry: {circonus_api_app: x}",
     kNoTelemetrySink},
    {"telemetry.circonus_api_token", kIgnored, false, "telemetry: {circonus_api_token: x}",
     kNoTelemetrySink},
    {"telemetry.circonus_api_url", kIgnored, false, "telemetry: {circonus_api_url: x}",
     kNoTelemetrySink},
    {"telemetry.circonus_broker_id", kIgnored, false, "telemetry: {circonus_broker_id: x}",
     kNoTelemetrySink},
    {"telemetry.circonus_broker_select_tag", kIgnored, false,
     "telemetry: {circonus_broker_select_tag: x}", kNoTelemetrySink},
    {"telemetry.circonus_check_display_name", kIgnored, false,
     "telemetry: {circonus_check_display_name: x}", kNoTelemetrySink},
    {"telemetry.circonus_check_force_metric_activation", kIgnored, false,
     "telemetry: {circonus_check_force_metric_activation: x}", kNoTelemetrySink},
    {"telemetry.circonus_check_id", kIgnored, false, "telemetry: {circonus_check_id: x}",
     kNoTelemetrySink},
    {"telemetry.circonus_check_instance_id", kIgnored, false,
     "telemetry: {circonus_check_instance_id: x}", kNoTelemetrySink},
    {"telemetry.circonus_check_search_tag", kIgnored, false,
     "telemetry: {circonus_check_search_tag: x}", kNoTelemetrySink},
    {"telemetry.circonus_check_tags", kIgnored, false, "telemetry: {circonus_check_tags: x}",
     kNoTelemetrySink},
    {"telemetry.circonus_submission_interval", kIgnored, false,
     "telemetry: {circonus_submission_interval: 10s}", kNoTelemetrySink},
    {"telemetry.circonus_submission_url", kIgnored, false,
     "telemetry: {circonus_submission_url: x}", kNoTelemetrySink},
    {"telemetry.filter_default", kIgnored, false, "telemetry: {filter_default: false}",
     "every metric is sent: no filters yet"},
    {"telemetry.prefix_filter", kIgnored, false, "telemetry: {prefix_filter: ['-consul.raft']}",
     "every metric is sent: no filters yet"},
    {"telemetry.enable_host_metrics", kIgnored, false, "telemetry: {enable_host_metrics: true}",
     "no host metrics yet"},
    {"telemetry.retry_failed_connection", kIgnored, false,
     "telemetry: {retry_failed_connection: true}",
     "statsd sinks are UDP: there is no connection to retry"},
    {"telemetry.disable_compat_1.9", kIgnored, false, "telemetry: {disable_compat_1.9: true}",
     "cairn never emitted Consul 1.9's old metric names"},
    {"limits.rpc_rate", kIgnored, false, "limits: {rpc_rate: 100}",
     "client agents' RPC calls are not rate-limited yet"},
    {"limits.rpc_max_burst", kIgnored, false, "limits: {rpc_max_burst: 100}",
     "client agents' RPC calls are not rate-limited yet"},
    {"limits.rpc_max_conns_per_client", kIgnored, false, "limits: {rpc_max_conns_per_client: 100}",
     "a client agent keeps one multiplexed connection per server; no per-client limit yet"},
    {"limits.rpc_handshake_timeout", kIgnored, false, "limits: {rpc_handshake_timeout: 5s}",
     "the server RPC has no handshake to time out (HTTP/2 without TLS)"},
    {"limits.rpc_client_timeout", kIgnored, false, "limits: {rpc_client_timeout: 60s}",
     "a client agent's call deadline is fixed (15 s, blocking queries their wait)"},
    {"limits.https_handshake_timeout", kIgnored, false, "limits: {https_handshake_timeout: 5s}",
     kNoHttps},
    {"limits.kv_max_value_size", kIgnored, false, "limits: {kv_max_value_size: 1024}",
     "KV values are limited to Consul's default, 512 KiB, for now"},
    {"limits.txn_max_req_len", kIgnored, false, "limits: {txn_max_req_len: 1024}",
     "transactions are limited by http_config.max_body_bytes"},
    {"limits.request_limits", kIgnored, false, "limits: {request_limits: {mode: enforcing}}",
     "no request rate limiter yet"},
    {"http_config.use_cache", kIgnored, false, "http_config: {use_cache: false}",
     "?cached reads are answered from the agent's store"},
    {"disable_update_check", kIgnored, false, "disable_update_check: false",
     "cairn never checks for updates"},
    {"disable_anonymous_signature", kIgnored, false, "disable_anonymous_signature: true",
     "cairn never checks for updates"},
    {"disable_remote_exec", kIgnored, false, "disable_remote_exec: false",
     "no remote exec in cairn"},
    {"connect", kIgnored, false, "connect: {enabled: true}", kNoMesh},
    {"config_entries", kIgnored, false, "config_entries: {bootstrap: [{kind: proxy-defaults}]}",
     kNoMesh},
    {"auto_encrypt", kRefused, false, "auto_encrypt: {tls: true}", kNoTls},
    {"auto_config", kRefused, false, "auto_config: {enabled: true}",
     "auto-config hands out TLS certificates and ACL tokens, neither built yet: refusing to run "
     "without what the config asks for"},
    {"primary_gateways", kIgnored, false, "primary_gateways: ['10.0.0.1:443']", kNoMesh},
    {"primary_gateways_interval", kIgnored, false, "primary_gateways_interval: 30s", kNoMesh},
    {"enable_central_service_config", kIgnored, false, "enable_central_service_config: true",
     kNoMesh},
    {"xds", kIgnored, false, "xds: {update_max_per_second: 250}", kNoGrpc},
    {"peering", kIgnored, false, "peering: {enabled: true}", "cluster peering is not built"},
    {"enable_debug", kIgnored, false, "enable_debug: true",
     "no /debug/pprof endpoints (cairn is not a Go program)"},
    {"autopilot", kIgnored, false, "autopilot: {cleanup_dead_servers: true}",
     "etcd decides server membership; cairn has no autopilot"},
    {"raft_snapshot_threshold", kIgnored, false, "raft_snapshot_threshold: 16384", kEtcdLog},
    {"raft_snapshot_interval", kIgnored, false, "raft_snapshot_interval: 30s", kEtcdLog},
    {"raft_trailing_logs", kIgnored, false, "raft_trailing_logs: 10240", kEtcdLog},
    {"raft_boltdb", kIgnored, false, "raft_boltdb: {NoFreelistSync: true}", kEtcdLog},
    {"raft_logstore", kIgnored, false, "raft_logstore: {backend: wal}", kEtcdLog},
    {"protocol", kIgnored, false, "protocol: 3", "cairn speaks Consul's RPC protocol version 2"},
    {"log_file", kIgnored, false, "log_file: /var/log/consul/", kLogsToStderr},
    {"log_rotate_duration", kIgnored, false, "log_rotate_duration: 24h", kLogsToStderr},
    {"log_rotate_bytes", kIgnored, false, "log_rotate_bytes: 1048576", kLogsToStderr},
    {"log_rotate_max_files", kIgnored, false, "log_rotate_max_files: 5", kLogsToStderr},
    {"enable_syslog", kIgnored, false, "enable_syslog: true", kLogsToStderr},
    {"syslog_facility", kIgnored, false, "syslog_facility: LOCAL0", kLogsToStderr},
    {"default_query_time", kIgnored, false, "default_query_time: 60s", kFixedQueryTimes},
    {"max_query_time", kIgnored, false, "max_query_time: 60s", kFixedQueryTimes},
    {"discovery_max_stale", kIgnored, false, "discovery_max_stale: 5s",
     "every server answers from its own store, which follows etcd closely"},
    {"cache", kIgnored, false, "cache: {entry_fetch_max_burst: 2}",
     "cached reads are answered from the agent's store, never fetched"},
    {"discard_check_output", kIgnored, false, "discard_check_output: true",
     "check output is always kept (up to check_output_max_size)"},
    {"disable_coordinates", kIgnored, false, "disable_coordinates: true",
     "coordinates are always computed"},
    {"disable_http_unprintable_char_filter", kIgnored, false,
     "disable_http_unprintable_char_filter: true", "cairn has no such filter to turn off"},
    {"disable_keyring_file", kIgnored, false, "disable_keyring_file: true",
     "cairn keeps no keyring file: the key comes from encrypt on every start"},
    {"advertise_addr_ipv4", kIgnored, false, "advertise_addr_ipv4: 10.0.0.1",
     "tagged addresses are derived from advertise_addr"},
    {"advertise_addr_ipv6", kIgnored, false, "advertise_addr_ipv6: '::1'",
     "gossip is IPv4 only for now"},
    {"advertise_addr_wan", kIgnored, false, "advertise_addr_wan: 10.0.0.1",
     "the WAN pool advertises the LAN address"},
    {"advertise_addr_wan_ipv4", kIgnored, false, "advertise_addr_wan_ipv4: 10.0.0.1",
     "the WAN pool advertises the LAN address"},
    {"advertise_addr_wan_ipv6", kIgnored, false, "advertise_addr_wan_ipv6: '::1'",
     "gossip is IPv4 only for now"},
    {"advertise_reconnect_timeout", kIgnored, false, "advertise_reconnect_timeout: 24h",
     "failed members are reaped on cairn's own schedule"},
    {"reconnect_timeout", kIgnored, false, "reconnect_timeout: 72h",
     "failed members are reaped on cairn's own schedule"},
    {"reconnect_timeout_wan", kIgnored, false, "reconnect_timeout_wan: 72h",
     "failed members are reaped on cairn's own schedule"},
    {"retry_max", kIgnored, false, "retry_max: 3", "cairn retries a join until it succeeds"},
    {"retry_max_wan", kIgnored, false, "retry_max_wan: 3",
     "cairn retries a join until it succeeds"},
    {"server_rejoin_age_max", kIgnored, false, "server_rejoin_age_max: 168h",
     "etcd decides whether a server may rejoin"},
    {"tagged_addresses", kIgnored, false, "tagged_addresses: {lan_alt: 10.0.0.2}",
     "a node's tagged addresses are derived from advertise_addr"},
    {"translate_wan_addrs", kIgnored, false, "translate_wan_addrs: true",
     "requests for other datacenters are not forwarded yet"},
    {"use_streaming_backend", kIgnored, false, "use_streaming_backend: true",
     "client agents always stream what they are asked about from a server (client_view)"},
    {"rpc", kIgnored, false, "rpc: {enable_streaming: true}",
     "servers always stream to client agents what they are asked about"},
    {"watches", kIgnored, false, "watches: [{type: key, key: k, args: [/bin/true]}]",
     "config watches are not run: use `cairn watch`"},
    {"snapshot_agent", kIgnored, false, "snapshot_agent: {snapshot: {interval: 1h}}",
     "the snapshot agent's settings (Consul ignores them too)"},
    {"experiments", kIgnored, false, "experiments: [resource-apis]", "no experiments in cairn"},
    {"locality", kIgnored, false, "locality: {region: r1, zone: z1}",
     "the agent's own locality is not used yet"},
    {"cloud", kIgnored, false, "cloud: {client_id: x}", "HCP is a HashiCorp service"},
    {"reporting", kIgnored, false, "reporting: {license: {enabled: true}}", kEnterprise},
    {"auto_reload_config", kIgnored, false, "auto_reload_config: true",
     "reload with SIGHUP or `cairn reload`"},
    {"segments", kIgnored, false, "segments: [{name: alpha, bind: 127.0.0.1, port: 8303}]",
     kEnterprise},
    {"segment", kIgnored, false, "segment: alpha", kEnterprise},
    {"partition", kIgnored, false, "partition: team-a", kEnterprise},
    {"audit", kIgnored, false, "audit: {enabled: true}", kEnterprise},
    {"license_path", kIgnored, false, "license_path: /etc/consul.hclic", kEnterprise},
    {"read_replica", kIgnored, false, "read_replica: true", kEnterprise},
    {"non_voting_server", kIgnored, false, "non_voting_server: true", kEnterprise},
    {"version", kIgnored, false, "version: 1.2.3", kNonUser},
    {"version_prerelease", kIgnored, false, "version_prerelease: dev", kNonUser},
    {"version_metadata", kIgnored, false, "version_metadata: ent", kNonUser},
    {"revision", kIgnored, false, "revision: abc", kNonUser},
    {"build_date", kIgnored, false, "build_date: '2023-01-01T00:00:00Z'", kNonUser},
    {"ae_interval", kIgnored, false, "ae_interval: 1m", kNonUser},
    {"check_deregister_interval_min", kIgnored, false, "check_deregister_interval_min: 1m",
     kNonUser},
    {"check_reap_interval", kIgnored, false, "check_reap_interval: 30s", kNonUser},
    {"consul", kIgnored, false, "consul: {raft: {election_timeout: 1s}}", kNonUser},
    {"segment_limit", kIgnored, false, "segment_limit: 64", kNonUser},
    {"segment_name_limit", kIgnored, false, "segment_name_limit: 64", kNonUser},
    {"sync_coordinate_interval_min", kIgnored, false, "sync_coordinate_interval_min: 15s",
     kNonUser},
    {"sync_coordinate_rate_target", kIgnored, false, "sync_coordinate_rate_target: 64", kNonUser},
    // Refused: running anyway would be less safe than the config promises.
    {"acl.enabled", kRefused, false, "acl: {enabled: true}", kNoAcls},
    {"acl_datacenter", kRefused, false, "acl_datacenter: dc1", kNoAcls},
    {"acl_default_policy", kRefused, false, "acl_default_policy: deny", kNoAcls},
    {"acl_down_policy", kRefused, false, "acl_down_policy: deny", kNoAcls},
    {"acl_master_token", kRefused, false, "acl_master_token: abc", kNoAcls},
    {"acl_token", kRefused, false, "acl_token: abc", kNoAcls},
    {"acl_agent_token", kRefused, false, "acl_agent_token: abc", kNoAcls},
    {"acl_agent_master_token", kRefused, false, "acl_agent_master_token: abc", kNoAcls},
    {"acl_replication_token", kRefused, false, "acl_replication_token: abc", kNoAcls},
    {"acl_ttl", kRefused, false, "acl_ttl: 30s", kNoAcls},
    {"acl_disabled_ttl", kRefused, false, "acl_disabled_ttl: 30s", kNoAcls},
    {"acl_enable_key_list_policy", kRefused, false, "acl_enable_key_list_policy: true", kNoAcls},
    {"enable_acl_replication", kRefused, false, "enable_acl_replication: true", kNoAcls},
    {"tls.cert_file", kRefused, false, "tls: {defaults: {cert_file: /etc/cert.pem}}", kNoTls},
    {"tls.key_file", kRefused, false, "tls: {defaults: {key_file: /etc/key.pem}}", kNoTls},
    {"tls.verify_incoming", kRefused, false, "tls: {defaults: {verify_incoming: true}}", kNoTls},
    {"tls.verify_outgoing", kRefused, false, "tls: {defaults: {verify_outgoing: true}}", kNoTls},
    {"tls.verify_server_hostname", kRefused, false,
     "tls: {internal_rpc: {verify_server_hostname: true}}", kNoTls},
    // Consul's legacy top-level TLS keys.
    {"cert_file", kRefused, false, "cert_file: /etc/cert.pem", kNoTls},
    {"key_file", kRefused, false, "key_file: /etc/key.pem", kNoTls},
    {"verify_incoming", kRefused, false, "verify_incoming: true", kNoTls},
    {"verify_incoming_rpc", kRefused, false, "verify_incoming_rpc: true", kNoTls},
    {"verify_incoming_https", kRefused, false, "verify_incoming_https: true", kNoTls},
    {"verify_outgoing", kRefused, false, "verify_outgoing: true", kNoTls},
    {"verify_server_hostname", kRefused, false, "verify_server_hostname: true", kNoTls},
    {"serf_lan", kRefused, false, "serf_lan: 10.0.0.1", kNotSecuredThisWay},
    {"serf_wan", kRefused, false, "serf_wan: 10.0.0.1", kNotSecuredThisWay},
    {"serf_lan_allowed_cidrs", kRefused, false, "serf_lan_allowed_cidrs: [10.0.0.0/8]",
     kNotSecuredThisWay},
    {"serf_wan_allowed_cidrs", kRefused, false, "serf_wan_allowed_cidrs: [10.0.0.0/8]",
     kNotSecuredThisWay},
    {"http_config.block_endpoints", kRefused, false,
     "http_config: {block_endpoints: [/v1/agent/self]}", kAccessRule},
    {"http_config.allow_write_http_from", kRefused, false,
     "http_config: {allow_write_http_from: [127.0.0.0/8]}", kAccessRule},
};

// Where note_no_effect records keys while a NoEffectNotesScope is open.
thread_local std::vector<std::string>* no_effect_notes = nullptr;

// The decoder's key form of a table name's last segment, and its block.
std::pair<std::string_view, std::string_view> split_name(std::string_view name) {
  auto dot = name.rfind('.');
  // "telemetry.disable_compat_1.9": the leaf carries a dot of its own.
  if (name.find("disable_compat_1.9") != std::string_view::npos) dot = name.find('.');
  if (dot == std::string_view::npos) return {"", name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

}  // namespace

NoEffectNotesScope::NoEffectNotesScope(std::vector<std::string>& into) {
  no_effect_notes = &into;
}
NoEffectNotesScope::~NoEffectNotesScope() {
  no_effect_notes = nullptr;
}

void note_no_effect(std::string_view name) {
  if (no_effect_notes) no_effect_notes->emplace_back(name);
}

bool decode_classified_key(Decoder& d, std::string_view block, std::string_view leaf,
                           const Value& v) {
  const SettingClass* s = classified_only_key(block, leaf);
  if (!s) return false;
  if (asks_nothing(v)) return true;
  if (s->support == Support::rejected) d.fail(v, std::string(s->why));
  note_no_effect(s->name);
  return true;
}

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

const SettingClass* classified_only_key(std::string_view block, std::string_view leaf) {
  for (const auto& k : kKeys) {
    if (k.support == Support::implemented) continue;
    auto [b, l] = split_name(k.name);
    if (b == block && normalize_key(l) == leaf) return &k;
  }
  return nullptr;
}

bool asks_nothing(const Value& v) {
  switch (v.kind) {
    case Value::Kind::null:
      return true;
    case Value::Kind::boolean:
      return !v.b;
    case Value::Kind::integer:
      return v.i == 0;
    case Value::Kind::uinteger:
      return v.u == 0;
    case Value::Kind::number:
      return v.d == 0;
    case Value::Kind::string:
      return v.s.empty();
    case Value::Kind::scalar:
      return v.is_null() || v.s == "false" || v.s == "0";
    case Value::Kind::array:
      return std::all_of(v.items.begin(), v.items.end(), asks_nothing);
    case Value::Kind::object:
      return std::all_of(v.fields.begin(), v.fields.end(),
                         [](const auto& f) { return asks_nothing(f.second); });
  }
  return false;
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
  add(cfg.ports.grpc_tls > 0, "ports.grpc_tls");
  add(cfg.ports.https > 0, "ports.https");
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
      w.field("why", std::string(s.why));
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
