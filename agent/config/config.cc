#include "agent/config/config.h"

#include "agent/config/etcd_ports.h"
#include "agent/config/hcl.h"
#include "agent/config/listen_addresses.h"
#include "agent/config/settings_support.h"
#include "common/files.h"

namespace cairn::config {

namespace {

int port(Decoder& d, const Value& v) { return static_cast<int>(d.integer(v, -1, 65535)); }

// etcd's peer port: a port, or -1 on a client (which runs no etcd). 0 would let
// the kernel pick a port the other servers could not know.
int etcd_peer_port(Decoder& d, const Value& v) {
  int p = static_cast<int>(d.integer(v, -1, 65535));
  if (p == 0) d.fail(v, "must be a port 1..65535 (-1: no etcd, on clients only)");
  return p;
}

// etcd's client port: 0 is the unix socket in the data dir, else TCP on 127.0.0.1.
int etcd_client_port(Decoder& d, const Value& v) {
  return static_cast<int>(d.integer(v, 0, 65535));
}

void decode_ports(Decoder& d, const Value& v, Ports& p) {
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "http") p.http = port(d, f);
    else if (k == "dns") p.dns = port(d, f);
    else if (k == "serflan") p.serf_lan = port(d, f);
    else if (k == "serfwan") p.serf_wan = port(d, f);
    else if (k == "server") p.server = port(d, f);
    else if (k == "https") p.https = port(d, f);
    else if (k == "grpc") p.grpc = port(d, f);
    else if (k == "grpctls") p.grpc_tls = port(d, f);
    else if (k == "etcdpeer") p.etcd_peer = etcd_peer_port(d, f);
    else if (k == "etcdclient") p.etcd_client = etcd_client_port(d, f);
    else return decode_classified_key(d, "ports", k, f);
    return true;
  });
}

// One listener list, checked where it is read so the error names file and line.
std::string listen_list(Decoder& d, const Value& v, std::string_view key, bool allow_unix) {
  std::string list = d.str(v);
  std::vector<ListenAddress> parsed;
  if (ListenStatus s = parse_listen_addresses(key, list, allow_unix, parsed); !s.ok())
    d.fail(v, s.message.substr(key.size() + 2));  // the path already names the key
  return list;
}

void decode_addresses(Decoder& d, const Value& v, Addresses& a) {
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "http") a.http = listen_list(d, f, "addresses.http", true);
    else if (k == "dns") a.dns = listen_list(d, f, "addresses.dns", false);
    else return decode_classified_key(d, "addresses", k, f);  // https, grpc, grpc_tls
    return true;
  });
}

void decode_unix_sockets(Decoder& d, const Value& v, UnixSockets& u) {
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "user") u.user = d.str(f);
    else if (k == "group") u.group = d.str(f);
    else if (k == "mode") {
      unsigned mode = 0;
      if (!parse_socket_mode(d.str(f), mode))
        d.fail(f, "must be an octal permission such as \"0770\"");
      u.mode = mode;
    } else return false;
    return true;
  });
}

void decode_gossip_tuning(Decoder& d, const Value& v, GossipTuning& t) {
  auto positive = [&](const Value& f) {
    Nanos n = d.duration(f);
    if (n <= 0) d.fail(f, "must be positive");
    return n;
  };
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "probeinterval") t.probe_interval = positive(f);
    else if (k == "probetimeout") t.probe_timeout = positive(f);
    else if (k == "gossipinterval") t.gossip_interval = positive(f);
    else if (k == "suspicionmult") t.suspicion_mult = static_cast<int>(d.integer(f, 1, 100));
    else if (k == "gossipnodes") t.gossip_nodes = static_cast<int>(d.integer(f, 1, 100));
    else if (k == "retransmitmult") t.retransmit_mult = static_cast<int>(d.integer(f, 1, 100));
    // cairn's keys (Consul has no such limits: see docs/compatibility.md).
    else if (k == "maxinboundstreams")
      t.max_inbound_streams = size_t(d.integer(f, 1, 65536));
    else if (k == "maxinboundstreamspersource")
      t.max_inbound_streams_per_source = size_t(d.integer(f, 1, 65536));
    // Up to memberlist's own 20 MiB; at least what a small pool's push/pull needs.
    else if (k == "maxstreambytes")
      t.max_stream_bytes = size_t(d.integer(f, 64 * 1024, 20 * 1024 * 1024));
    else if (k == "maxstreambufferbytes")
      t.max_stream_buffer_bytes = size_t(d.integer(f, 64 * 1024, int64_t{1} << 40));
    else return false;
    return true;
  });
}

void decode_dns(Decoder& d, const Value& v, DnsConfig& c) {
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "allowstale") c.allow_stale = d.boolean(f);
    else if (k == "maxstale") c.max_stale = d.duration(f);
    else if (k == "nodettl") c.node_ttl = d.duration(f);
    else if (k == "servicettl") {
      if (!f.is_object()) d.fail(f, "expected a map of service name to TTL");
      for (const auto& [name, ttl] : f.fields) {
        Decoder::Scope s(d, name);
        c.service_ttl[name] = d.duration(ttl);
      }
    } else if (k == "onlypassing") c.only_passing = d.boolean(f);
    else if (k == "enabletruncate") c.enable_truncate = d.boolean(f);
    else if (k == "udpanswerlimit") c.udp_answer_limit = static_cast<int>(d.integer(f, 0, 1000));
    else if (k == "udploops") c.udp_loops = static_cast<int>(d.integer(f, 1, 64));
    else if (k == "recursortimeout") c.recursor_timeout = d.duration(f);
    else if (k == "recursorstrategy") {
      c.recursor_strategy = d.str(f);
      if (c.recursor_strategy != "sequential" && c.recursor_strategy != "random")
        d.fail(f, "must be \"sequential\" or \"random\"");
    } else if (k == "disablecompression") c.disable_compression = d.boolean(f);
    else if (k == "arecordlimit") c.a_record_limit = static_cast<int>(d.integer(f, 0, 1000));
    else if (k == "enableadditionalnodemetatxt") c.enable_additional_node_meta_txt = d.boolean(f);
    else if (k == "soa") {
      d.object(f, [&](std::string_view sk, const Value& sv) {
        auto u32 = [&] { return static_cast<uint32_t>(d.integer(sv, 0, UINT32_MAX)); };
        if (sk == "expire") c.soa_expire = u32();
        else if (sk == "minttl") c.soa_min_ttl = u32();
        else if (sk == "refresh") c.soa_refresh = u32();
        else if (sk == "retry") c.soa_retry = u32();
        else return false;
        return true;
      });
    } else if (decode_dns_limit(d, k, f, c.limits)) {
    } else if (k == "usecache" || k == "cachemaxage") {
      note_no_effect(k == "usecache" ? "dns_config.use_cache" : "dns_config.cache_max_age");
    } else return decode_classified_key(d, "dns_config", k, f);
    return true;
  });
}

void decode_acl(Decoder& d, const Value& v, AclConfig& a) {
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "enabled") a.enabled = d.boolean(f);
    else if (k == "defaultpolicy") {
      a.default_policy = d.str(f);
      if (a.default_policy != "allow" && a.default_policy != "deny")
        d.fail(f, "must be \"allow\" or \"deny\"");
    } else if (k == "downpolicy") a.down_policy = d.str(f);
    else if (k == "tokenttl") a.token_ttl = d.duration(f);
    else if (k == "enabletokenpersistence") a.enable_token_persistence = d.boolean(f);
    else if (k == "tokens") a.tokens = d.string_map(f);
    else return decode_classified_key(d, "acl", k, f);
    return true;
  });
}

void decode_tls_block(Decoder& d, const Value& v, TlsConfig& t) {
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "cafile") t.ca_file = d.str(f);
    else if (k == "capath") t.ca_path = d.str(f);
    else if (k == "certfile") t.cert_file = d.str(f);
    else if (k == "keyfile") t.key_file = d.str(f);
    else if (k == "verifyincoming") t.verify_incoming = d.boolean(f);
    else if (k == "verifyoutgoing") t.verify_outgoing = d.boolean(f);
    else if (k == "verifyserverhostname") t.verify_server_hostname = d.boolean(f);
    else if (k == "defaults" || k == "internalrpc" || k == "https" || k == "grpc")
      decode_tls_block(d, f, t);
    else if (k == "tlsminversion" || k == "tlsciphersuites") {
      d.str(f);
      note_no_effect(k == "tlsminversion" ? "tls.tls_min_version" : "tls.tls_cipher_suites");
    } else return decode_classified_key(d, "tls", k, f);
    return true;
  });
}

void decode_telemetry(Decoder& d, const Value& v, Telemetry& t) {
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "statsdaddress") t.statsd_address = d.str(f);
    else if (k == "dogstatsdaddr") t.dogstatsd_addr = d.str(f);
    else if (k == "dogstatsdtags") t.dogstatsd_tags = d.strings(f);
    else if (k == "metricsprefix") t.metrics_prefix = d.str(f);
    else if (k == "metricsinterval") {
      t.metrics_interval = d.duration(f);
      if (t.metrics_interval < 10 * kMillisecond || t.metrics_interval > kHour)
        d.fail(f, "must be between 10ms and 1h");
    } else if (k == "prometheusretentiontime") t.prometheus_retention_time = d.duration(f);
    else if (k == "disablehostname") t.disable_hostname = d.boolean(f);
    // Consul's default is true (send every metric), cairn's only behaviour.
    else if (k == "filterdefault") {
      if (!d.boolean(f)) note_no_effect("telemetry.filter_default");
    }
    else return decode_classified_key(d, "telemetry", k, f);
    return true;
  });
}

void decode_performance(Decoder& d, const Value& v, Performance& p) {
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "raftmultiplier") p.raft_multiplier = static_cast<int>(d.integer(f, 1, 10));
    else if (k == "leavedraintime" || k == "rpcholdtimeout") {
      d.duration(f);
      note_no_effect(k == "leavedraintime" ? "performance.leave_drain_time"
                                           : "performance.rpc_hold_timeout");
    } else return false;
    return true;
  });
}

void decode_etcd(Decoder& d, const Value& v, EtcdSettings& e) {
  d.object(v, [&](std::string_view k, const Value& f) {
    // At least 16 MiB (cairn's own rows need room), at most etcd's 8 GiB ceiling.
    if (k == "quotabackendbytes")
      e.quota_backend_bytes = d.integer(f, int64_t{16} << 20, int64_t{8} << 30);
    else return false;
    return true;
  });
}

void decode_client_view(Decoder& d, const Value& v, ClientView& c) {
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "subscriptionttl") {
      c.subscription_ttl = d.duration(f);
      if (c.subscription_ttl < 100 * kMillisecond)
        d.fail(f, "client_view.subscription_ttl must be at least 100ms");
    } else if (k == "maxsubscriptions") {
      c.max_subscriptions = d.integer(f, 1, 16384);  // the watch request's bound
    } else {
      return false;
    }
    return true;
  });
}

// Consul's web UI is not built yet: the keys are accepted and named in the
// start-up warning (see settings_support.h), never advertised.
void decode_ui_config(Decoder& d, const Value& v) {
  d.object(v, [&](std::string_view k, const Value& f) {
    if (k == "enabled") {
      if (d.boolean(f)) note_no_effect("ui_config.enabled");
    } else if (k == "dir" || k == "contentpath") {
      d.str(f);
      note_no_effect(k == "dir" ? "ui_config.dir" : "ui_config.content_path");
    } else return decode_classified_key(d, "ui_config", k, f);
    return true;
  });
}

void append_services(Decoder& d, const Value& v, Config& cfg) {
  if (v.is_array()) {
    d.array(v, [&](const Value& item) { cfg.services.push_back(decode_service(d, item)); });
  } else {
    cfg.services.push_back(decode_service(d, v));
  }
}

void append_checks(Decoder& d, const Value& v, Config& cfg) {
  if (v.is_array()) {
    d.array(v, [&](const Value& item) { cfg.checks.push_back(decode_check(d, item)); });
  } else {
    cfg.checks.push_back(decode_check(d, v));
  }
}

}  // namespace

void merge_file(Config& cfg, const std::string& path, const std::string& contents,
                const std::string& format) {
  Value root;
  ParseError perr;
  bool hcl = format == "hcl" || (format.empty() && path.ends_with(".hcl"));
  bool parsed = format == "json" ? parse_json(contents, root, perr)
                : hcl            ? parse_hcl(contents, root, perr)
                                 : parse_yaml(contents, root, perr);
  if (!parsed)
    throw DecodeError(
        path, perr.line, "",
        perr.code == ParseError::Code::syntax ? "syntax error: " + perr.message : perr.message);
  if (root.is_null()) return;  // an empty file (or only comments)
  Decoder d(path, true);
  NoEffectNotesScope notes(cfg.no_effect_keys);
  size_t first_service = cfg.services.size(), first_check = cfg.checks.size();
  d.object(root, [&](std::string_view k, const Value& f) {
    if (k == "datacenter") cfg.datacenter = d.str(f);
    else if (k == "primarydatacenter") cfg.primary_datacenter = d.str(f);
    else if (k == "nodename") cfg.node_name = d.str(f);
    else if (k == "nodeid") cfg.node_id = d.str(f);
    else if (k == "nodemeta") cfg.node_meta = d.string_map(f);
    else if (k == "datadir") cfg.data_dir = d.str(f);
    else if (k == "server") cfg.server = d.boolean(f);
    else if (k == "bootstrapexpect") cfg.bootstrap_expect = static_cast<int>(d.integer(f, 0, 64));
    else if (k == "bootstrap") {
      if (d.boolean(f)) cfg.bootstrap_expect = 1;
    } else if (k == "retryjoin") {
      for (auto& s : d.strings(f)) cfg.retry_join.push_back(s);
    } else if (k == "startjoin") {
      for (auto& s : d.strings(f)) cfg.start_join.push_back(s);
    } else if (k == "retryinterval") cfg.retry_interval = d.duration(f);
    else if (k == "retryjoinwan") {
      for (auto& s : d.strings(f)) cfg.retry_join_wan.push_back(s);
    } else if (k == "startjoinwan") {
      for (auto& s : d.strings(f)) cfg.start_join_wan.push_back(s);
    } else if (k == "retryintervalwan") cfg.retry_interval_wan = d.duration(f);
    else if (k == "gossiplan") decode_gossip_tuning(d, f, cfg.gossip_lan);
    else if (k == "gossipwan") decode_gossip_tuning(d, f, cfg.gossip_wan);
    else if (k == "rejoinafterleave") cfg.rejoin_after_leave = d.boolean(f);
    else if (k == "leaveonterminate") cfg.leave_on_terminate = d.boolean(f);
    else if (k == "skipleaveoninterrupt") cfg.skip_leave_on_interrupt = d.boolean(f);
    else if (k == "bindaddr") cfg.bind_addr = d.str(f);
    else if (k == "advertiseaddr") cfg.advertise_addr = d.str(f);
    else if (k == "clientaddr") cfg.client_addr = d.str(f);
    else if (k == "ports") decode_ports(d, f, cfg.ports);
    else if (k == "addresses") decode_addresses(d, f, cfg.addresses);
    else if (k == "unixsockets") decode_unix_sockets(d, f, cfg.unix_sockets);
    else if (k == "domain") cfg.domain = d.str(f);
    else if (k == "altdomain") cfg.alt_domain = d.str(f);
    else if (k == "recursors") {
      for (auto& s : d.strings(f)) cfg.recursors.push_back(s);
    } else if (k == "dnsconfig") decode_dns(d, f, cfg.dns_config);
    else if (k == "encrypt") cfg.encrypt = d.str(f);
    else if (k == "encryptverifyincoming") cfg.encrypt_verify_incoming = d.boolean(f);
    else if (k == "encryptverifyoutgoing") cfg.encrypt_verify_outgoing = d.boolean(f);
    else if (k == "acl") decode_acl(d, f, cfg.acl);
    else if (k == "tls") decode_tls_block(d, f, cfg.tls);
    // Consul's legacy top-level CA keys (the other legacy TLS keys are refused).
    else if (k == "cafile") cfg.tls.ca_file = d.str(f);
    else if (k == "capath") cfg.tls.ca_path = d.str(f);
    else if (k == "enablescriptchecks") cfg.enable_script_checks = d.boolean(f);
    else if (k == "enablelocalscriptchecks") cfg.enable_local_script_checks = d.boolean(f);
    else if (k == "checkoutputmaxsize")
      cfg.check_output_max_size = static_cast<int>(d.integer(f, 1, 1 << 20));
    else if (k == "checkupdateinterval") cfg.check_update_interval = d.duration(f);
    else if (k == "sessionttlmin") cfg.session_ttl_min = d.duration(f);
    else if (k == "telemetry") decode_telemetry(d, f, cfg.telemetry);
    else if (k == "performance") decode_performance(d, f, cfg.performance);
    else if (k == "etcd") decode_etcd(d, f, cfg.etcd);
    else if (k == "clientview") decode_client_view(d, f, cfg.client_view);
    // Checked by validate(), so that -raft-protocol is checked the same way.
    else if (k == "raftprotocol") cfg.raft_protocol = static_cast<int>(d.integer(f, 0, 255));
    else if (k == "ui") cfg.ui = d.boolean(f);
    else if (k == "uiconfig") decode_ui_config(d, f);
    else if (k == "limits") decode_limits(d, f, cfg.limits);
    else if (k == "httpconfig") decode_http_config(d, f, cfg.http_config);
    else if (k == "loglevel") cfg.log_level = d.str(f);
    else if (k == "logjson") cfg.log_json = d.boolean(f);
    else if (k == "pidfile") cfg.pid_file = d.str(f);
    else if (k == "service" || k == "services") append_services(d, f, cfg);
    else if (k == "check" || k == "checks") append_checks(d, f, cfg);
    else if (k == "disableupdatecheck" || k == "disableremoteexec") {
      // cairn never checks for updates and has no remote exec: only false asks for them.
      if (!d.boolean(f))
        note_no_effect(k == "disableupdatecheck" ? "disable_update_check" : "disable_remote_exec");
    } else if (k == "disablehostnodeid") cfg.disable_host_node_id = d.boolean(f);
    else return decode_classified_key(d, "", k, f);
    return true;
  });
  // Definitions are validated where they are read so errors point at their file.
  for (size_t i = first_service; i < cfg.services.size(); ++i) {
    std::string err = validate_service(cfg.services[i]);
    if (!err.empty()) throw DecodeError(path, cfg.services[i].line, "service", err);
  }
  for (size_t i = first_check; i < cfg.checks.size(); ++i) {
    std::string err = validate_check(cfg.checks[i], true);
    if (!err.empty()) throw DecodeError(path, cfg.checks[i].line, "check", err);
    if (cfg.checks[i].id.empty()) cfg.checks[i].id = cfg.checks[i].name;
  }
  cfg.files.push_back(path);
}

std::string check_config_format(const std::string& format) {
  if (format.empty() || format == "json" || format == "yaml" || format == "hcl") return "";
  return "-config-format: \"" + format + "\" must be json, yaml or hcl";
}

std::string load_files(Config& cfg, const std::vector<std::string>& config_files,
                       const std::vector<std::string>& config_dirs, const std::string& format) {
  if (std::string e = check_config_format(format); !e.empty()) return e;
  std::vector<std::string> paths = config_files;
  // A forced format reads every file of the directories, as Consul's -config-format.
  std::vector<std::string> suffixes;
  if (format.empty()) suffixes = {".yaml", ".yml", ".json", ".hcl"};
  for (const auto& dir : config_dirs) {
    if (!is_directory(dir)) return dir + ": not a directory";
    for (auto& f : list_files(dir, suffixes)) paths.push_back(f);
  }
  for (const auto& p : paths) {
    std::string contents, err;
    if (!read_file(p, contents, err)) return err;
    try {
      merge_file(cfg, p, contents, format);
    } catch (const DecodeError& e) {
      return format_decode_error(e);
    }
  }
  return "";
}

std::string validate(const Config& cfg) {
  if (cfg.datacenter.empty()) return "datacenter: must not be empty";
  for (char c : cfg.datacenter)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      return "datacenter: \"" + cfg.datacenter + "\" must be alphanumeric, '-' or '_'";
  if (cfg.ports.http <= 0 && cfg.ports.https <= 0) return "ports.http: no HTTP listener configured";
  if (PortsStatus s = validate_etcd_ports(cfg); !s.ok()) return s.message;
  if (cfg.acl.default_policy != "allow" && cfg.acl.default_policy != "deny")
    return "acl.default_policy: must be allow or deny";
  if (std::string e = unsupported_settings(cfg); !e.empty()) return e;
  if (cfg.raft_protocol != 3)
    return "raft_protocol: version " + std::to_string(cfg.raft_protocol) +
           " is not supported: cairn's servers answer as Consul's Raft protocol 3, the only one "
           "accepted";
  if (!cfg.primary_datacenter.empty()) {
    for (char c : cfg.primary_datacenter)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
        return "primary_datacenter: \"" + cfg.primary_datacenter +
               "\" must be alphanumeric, '-' or '_'";
  }
  if (ListenStatus s = check_listen_addresses(cfg); !s.ok()) return s.message;
  // Service IDs must be unique across files.
  std::map<std::string, std::string> seen;
  for (const auto& s : cfg.services) {
    auto [it, fresh] = seen.emplace(s.service.id, s.file);
    if (!fresh)
      return s.file + ":" + std::to_string(s.line) + ": service: ID \"" + s.service.id +
             "\" is already defined in " + it->second;
  }
  return "";
}

const std::string& primary_datacenter(const Config& cfg) {
  return cfg.primary_datacenter.empty() ? cfg.datacenter : cfg.primary_datacenter;
}

}  // namespace cairn::config
