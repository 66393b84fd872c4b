// The agent's configuration: Consul's keys (snake_case in YAML, Consul JSON
// files accepted too), merged from -config-file/-config-dir fragments in
// order (later scalars win, lists append), then command-line flags on top.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/dns_limits.h"
#include "agent/config/http_limits.h"
#include "agent/config/service_definition.h"
#include "common/duration.h"

namespace cairn::config {

struct Ports {
  int http = 8500;
  int dns = 8600;
  int serf_lan = 8301;
  int serf_wan = 8302;
  int server = 8300;
  int https = -1;     // accepted without effect: no HTTPS listener without TLS
  int grpc = -1;      // accepted without effect: no gRPC (xDS) server
  int grpc_tls = -1;  // accepted without effect
  // cairn: the etcd member a server runs as its child (docs/packaging.md).
  // Peer traffic (raft) between servers: the only etcd port facing the LAN,
  // bound on bind_addr. -1 (no etcd) is refused on a server.
  int etcd_peer = 8380;
  // 0: etcd's client endpoint is a unix socket in the data dir, so several
  // servers on one host cannot clash; >0: TCP on 127.0.0.1 only, never the LAN.
  int etcd_client = 0;
};

// addresses: per-listener overrides of client_addr, as Consul's: space-separated
// IP literals, or (HTTP only) "unix:///path" for a unix socket. Empty: client_addr.
struct Addresses {
  std::string dns, http;
  std::string https, grpc, grpc_tls;  // accepted without effect (no such listeners)
};

// unix_sockets: owner and mode of the unix sockets cairn creates (addresses.http).
struct UnixSockets {
  std::string user, group;       // a name or a numeric ID; empty: the agent's own
  std::optional<unsigned> mode;  // octal in the config ("0770"); empty: umask decides
};

struct DnsConfig {
  bool allow_stale = true;
  Nanos max_stale = 87600 * kHour;
  Nanos node_ttl = 0;
  std::map<std::string, Nanos> service_ttl;  // "*" is the default
  bool only_passing = false;
  bool enable_truncate = false;
  int udp_answer_limit = 3;
  // cairn: loops answering DNS over UDP (SO_REUSEPORT); 1 is the agent's own.
  int udp_loops = 1;
  Nanos recursor_timeout = 2 * kSecond;
  std::string recursor_strategy = "sequential";  // or "random"
  bool disable_compression = false;
  int a_record_limit = 0;
  bool enable_additional_node_meta_txt = true;
  uint32_t soa_expire = 86400, soa_min_ttl = 0, soa_refresh = 3600, soa_retry = 600;
  DnsLimits limits;  // cairn keys: tcp_max_connections, recursor_max_in_flight, ...
};

struct AclConfig {
  bool enabled = false;
  std::string default_policy = "allow";
  std::string down_policy = "extend-cache";
  Nanos token_ttl = 30 * kSecond;
  bool enable_token_persistence = false;
  std::map<std::string, std::string> tokens;  // initial_management, default, agent, ...
};

struct TlsConfig {
  std::string ca_file, ca_path, cert_file, key_file;
  bool verify_incoming = false, verify_outgoing = false, verify_server_hostname = false;
};

struct Telemetry {
  std::string statsd_address;   // host:port: metrics in statsd's text format over UDP
  std::string dogstatsd_addr;   // host:port: the same with DogStatsD tags
  std::vector<std::string> dogstatsd_tags;  // "key:value", added to every metric
  std::string metrics_prefix = "consul";
  // cairn: how often the agent sends its metrics (Consul's in-memory interval).
  Nanos metrics_interval = 10 * kSecond;
  Nanos prometheus_retention_time = 0;
  bool disable_hostname = false;
};

// gossip_lan / gossip_wan: memberlist timing over the pool's profile (Consul's keys),
// and cairn's bounds on inbound gossip TCP streams (gossip::StreamLimits).
struct GossipTuning {
  std::optional<Nanos> probe_interval, probe_timeout, gossip_interval;
  std::optional<int> suspicion_mult, gossip_nodes, retransmit_mult;
  std::optional<size_t> max_inbound_streams, max_inbound_streams_per_source, max_stream_bytes,
      max_stream_buffer_bytes;
};

// performance: Consul's raft timing knob. cairn's etcd members run heartbeat
// 100 ms x raft_multiplier and election timeout 500 ms x raft_multiplier (with
// pre-vote): about half a second of failover on a LAN at 1, cairn's default.
struct Performance {
  int raft_multiplier = 1;  // 1..10, as Consul's
};

// etcd: cairn's own settings of the member a server runs.
struct EtcdSettings {
  int64_t quota_backend_bytes = 0;  // 0: etcd's 2 GiB; a full backend raises NOSPACE
};

// client_view: cairn's own settings of a client agent's streamed view of the
// catalog (agent/forward/catalog_mirror.h).
struct ClientView {
  Nanos subscription_ttl = 20 * 60 * kSecond;  // an unused service leaves the view
  int64_t max_subscriptions = 2048;  // past it, further services are asked of a server
};

struct Config {
  // Identity.
  std::string datacenter = "dc1";
  // Consul's ACL and Connect primary; cairn only reports it (empty: datacenter).
  std::string primary_datacenter;
  std::string node_name;  // default: hostname
  std::string node_id;    // default: persisted in data_dir
  // Consul's default; cairn's node IDs are always random (false: a warning).
  bool disable_host_node_id = true;
  std::map<std::string, std::string> node_meta;
  std::string data_dir;

  // Role.
  bool dev = false;
  bool server = false;
  int bootstrap_expect = 0;
  std::vector<std::string> retry_join;
  std::vector<std::string> start_join;
  Nanos retry_interval = 30 * kSecond;
  // Servers: the WAN pool of all datacenters' servers (port serf_wan).
  std::vector<std::string> retry_join_wan;
  std::vector<std::string> start_join_wan;
  Nanos retry_interval_wan = 30 * kSecond;
  GossipTuning gossip_lan, gossip_wan;
  bool rejoin_after_leave = false;
  std::optional<bool> leave_on_terminate;
  // SIGINT: leave the gossip pool before stopping unless set (Consul's
  // default: servers skip the leave, clients leave).
  std::optional<bool> skip_leave_on_interrupt;

  // Addresses and ports.
  std::string bind_addr = "0.0.0.0";
  std::string advertise_addr;
  std::string client_addr = "127.0.0.1";
  Ports ports;
  Addresses addresses;
  UnixSockets unix_sockets;

  // DNS.
  std::string domain = "consul.";
  std::string alt_domain;
  std::vector<std::string> recursors;
  DnsConfig dns_config;

  // Security.
  std::string encrypt;
  // Gossip: accept (incoming false) or send (outgoing false) plaintext while a
  // cluster moves to encryption, as Consul's encrypt_verify_* do.
  bool encrypt_verify_incoming = true, encrypt_verify_outgoing = true;
  AclConfig acl;
  TlsConfig tls;

  bool enable_script_checks = false;
  bool enable_local_script_checks = false;
  int check_output_max_size = 4096;
  // Output-only check changes wait this long (d/2 + up to d) before they are
  // synced to the catalog; 0 syncs them at once. Status changes never wait.
  Nanos check_update_interval = 5 * 60 * kSecond;
  Nanos session_ttl_min = 10 * kSecond;

  Performance performance;
  EtcdSettings etcd;
  ClientView client_view;
  // Consul's Raft protocol version: cairn's servers replicate through etcd and
  // answer as Consul's protocol 3, the only value accepted.
  int raft_protocol = 3;

  Telemetry telemetry;
  bool ui = false;
  Limits limits;
  HttpConfig http_config;
  std::string log_level = "info";
  bool log_json = false;
  // Written with the agent's PID at start, removed at a graceful exit.
  std::string pid_file;

  // Definitions from config files (services.d).
  std::vector<ServiceDefinition> services;
  std::vector<CheckSpec> checks;

  // Where each file-defined piece came from, for messages.
  std::vector<std::string> files;
  // Keys read from the files that have no effect in cairn (see settings_support.h).
  std::vector<std::string> no_effect_keys;
};

// Decodes one file's contents into cfg (merging). Throws DecodeError. Without
// a format, a path ending in .hcl is read as HCL 1, any other as YAML.
void merge_file(Config& cfg, const std::string& path, const std::string& contents,
                const std::string& format = "");

// Loads -config-file paths and every *.yaml, *.yml, *.json, *.hcl in -config-dir
// paths, in order. Returns "" or the first error ("file:line: key: message").
// *.hcl files are HCL 1 (hcl.h), the others YAML (JSON is YAML too). format
// ("json", "yaml" or "hcl", -config-format) reads every file in that format
// and every file of the directories, whatever its extension.
std::string load_files(Config& cfg, const std::vector<std::string>& config_files,
                       const std::vector<std::string>& config_dirs,
                       const std::string& format = "");

// "" or why -config-format's value cannot be used.
std::string check_config_format(const std::string& format);

// Checks cross-field rules once everything is merged. Returns "" or an error.
std::string validate(const Config& cfg);

// The primary datacenter as Consul reports it: primary_datacenter, else datacenter.
const std::string& primary_datacenter(const Config& cfg);

}  // namespace cairn::config
