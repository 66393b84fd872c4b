#include "agent/config/flags.h"

#include <charconv>

#include "agent/config/settings_support.h"
#include "common/duration.h"

namespace cairn::config {

namespace {

bool parse_int(const std::string& s, int lo, int hi, int& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && out >= lo && out <= hi;
}

bool parse_bool(const std::string& s, bool& out) {
  if (s == "true" || s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "True") out = true;
  else if (s == "false" || s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "False") out = false;
  else return false;
  return true;
}

}  // namespace

std::string parse_agent_flags(const std::vector<std::string>& args, AgentFlags& out) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a.size() < 2 || a[0] != '-') return "unexpected argument \"" + a + "\" (flags start with -)";
    a = a.substr(a[1] == '-' ? 2 : 1);
    std::string name = a, value;
    bool has_value = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_value = true;
    }
    const SettingClass* flag = find_flag(name);
    if (flag && !flag->takes_value) {
      bool b = true;
      if (has_value && !parse_bool(value, b))
        return "invalid boolean value \"" + value + "\" for -" + name;
      if (name == "help" || name == "h") {
        out.help = true;
        continue;
      }
      if (name == "dev") {
        out.dev = b;
        continue;
      }
      if (name == "list-settings") {
        out.list_settings = b;
        continue;
      }
      out.overrides.emplace_back(name, b ? "true" : "false");
      continue;
    }
    if (!flag) return "flag provided but not defined: -" + name;
    if (flag->support == Support::rejected) return "-" + name + ": " + std::string(flag->why);
    if (!has_value) {
      if (i + 1 >= args.size()) return "flag needs an argument: -" + name;
      value = args[++i];
    }
    if (name == "config-file") out.config_files.push_back(value);
    else if (name == "config-dir") out.config_dirs.push_back(value);
    else if (name == "config-format") {
      if (std::string e = check_config_format(value); !e.empty()) return e;
      out.config_format = value;
    } else out.overrides.emplace_back(name, value);
  }
  return "";
}

void apply_dev_defaults(Config& cfg) {
  cfg.dev = true;
  cfg.server = true;
  cfg.bootstrap_expect = 1;
  cfg.bind_addr = "127.0.0.1";
  cfg.client_addr = "127.0.0.1";
  // Consul's -dev also serves the web UI; cairn has none yet, so it is not claimed.
  cfg.node_name = cfg.node_name.empty() ? "" : cfg.node_name;
}

std::string apply_overrides(Config& cfg, const AgentFlags& flags) {
  for (const auto& flag : flags.overrides) {
    // Named copies: clang 14 cannot capture structured bindings in lambdas.
    const std::string& name = flag.first;
    const std::string& value = flag.second;
    auto port_flag = [&](int& slot) -> std::string {
      if (!parse_int(value, -1, 65535, slot))
        return "invalid value \"" + value + "\" for -" + name + ": must be a port number";
      return "";
    };
    std::string err;
    if (name == "data-dir") cfg.data_dir = value;
    else if (name == "node") cfg.node_name = value;
    else if (name == "node-id") cfg.node_id = value;
    else if (name == "datacenter") cfg.datacenter = value;
    else if (name == "bind") cfg.bind_addr = value;
    else if (name == "advertise") cfg.advertise_addr = value;
    else if (name == "client") cfg.client_addr = value;
    else if (name == "retry-join") cfg.retry_join.push_back(value);
    else if (name == "join") cfg.start_join.push_back(value);
    else if (name == "retry-join-wan") cfg.retry_join_wan.push_back(value);
    else if (name == "join-wan") cfg.start_join_wan.push_back(value);
    else if (name == "encrypt") cfg.encrypt = value;
    else if (name == "domain") cfg.domain = value;
    else if (name == "alt-domain") cfg.alt_domain = value;
    else if (name == "recursor") cfg.recursors.push_back(value);
    else if (name == "http-port") err = port_flag(cfg.ports.http);
    else if (name == "dns-port") err = port_flag(cfg.ports.dns);
    else if (name == "serf-lan-port") err = port_flag(cfg.ports.serf_lan);
    else if (name == "serf-wan-port") err = port_flag(cfg.ports.serf_wan);
    else if (name == "server-port") err = port_flag(cfg.ports.server);
    else if (name == "https-port") err = port_flag(cfg.ports.https);
    else if (name == "grpc-port") err = port_flag(cfg.ports.grpc);
    else if (name == "grpc-tls-port") err = port_flag(cfg.ports.grpc_tls);
    else if (name == "pid-file") cfg.pid_file = value;
    else if (name == "hcl") {
      // Consul's -hcl: a config fragment, merged as one more file would be.
      try {
        merge_file(cfg, "-hcl", value, "hcl");
      } catch (const DecodeError& e) {
        err = format_decode_error(e);
      }
    }
    else if (name == "raft-protocol") {
      if (!parse_int(value, 0, 255, cfg.raft_protocol))
        err = "invalid value \"" + value + "\" for -raft-protocol";
    } else if (name == "check_output_max_size") {
      if (!parse_int(value, 1, 1 << 20, cfg.check_output_max_size))
        err = "invalid value \"" + value + "\" for -check_output_max_size";
    } else if (name == "log-level") cfg.log_level = value;
    else if (name == "bootstrap-expect") {
      if (!parse_int(value, 0, 64, cfg.bootstrap_expect))
        err = "invalid value \"" + value + "\" for -bootstrap-expect";
    } else if (name == "node-meta") {
      auto colon = value.find(':');
      if (colon == std::string::npos) err = "-node-meta: expected key:value, got \"" + value + "\"";
      else cfg.node_meta[value.substr(0, colon)] = value.substr(colon + 1);
    } else if (name == "retry-interval" || name == "retry-interval-wan") {
      auto d = parse_duration(value);
      if (!d || *d <= 0)
        err = "invalid value \"" + value + "\" for -" + name + ": expected a duration";
      else
        (name == "retry-interval" ? cfg.retry_interval : cfg.retry_interval_wan) = *d;
    } else if (name == "disable-host-node-id") cfg.disable_host_node_id = value == "true";
    else if (name == "server") cfg.server = value == "true";
    else if (name == "ui") cfg.ui = value == "true";
    else if (name == "log-json") cfg.log_json = value == "true";
    else if (name == "bootstrap") {
      if (value == "true") cfg.bootstrap_expect = 1;
    } else if (name == "rejoin") cfg.rejoin_after_leave = value == "true";
    else if (name == "enable-script-checks") cfg.enable_script_checks = value == "true";
    else if (name == "enable-local-script-checks") cfg.enable_local_script_checks = value == "true";
    else if (const SettingClass* f = find_flag(name); f && f->support == Support::no_effect) {
      // Consul's flags that cairn only classifies: named in the start-up warning.
      if (!value.empty() && value != "false") cfg.no_effect_keys.emplace_back(f->example);
    }
    if (!err.empty()) return err;
  }
  return "";
}

std::string agent_usage() {
  return R"(Usage: cairn agent [options]

  Starts the cairn agent: health checks, gossip, HTTP API and DNS interface.

Options:
  -dev                     In-memory single-node server bound to 127.0.0.1.
  -server                  Run as a server (catalog, KV, sessions).
  -bootstrap-expect N      Servers to wait for before bootstrapping.
  -config-file FILE        Load a config file (YAML, Consul JSON or HCL). Repeatable.
  -config-dir DIR          Load every *.yaml, *.yml, *.json and *.hcl in DIR. Repeatable.
  -config-format F         Read every config file (any extension) as json, yaml or hcl.
  -data-dir DIR            Where state is persisted.
  -node NAME               Node name (default: the hostname).
  -datacenter DC           Datacenter (default dc1).
  -bind ADDR               Address for cluster communication.
  -advertise ADDR          Address advertised to other nodes.
  -client ADDR             Address of the HTTP and DNS interfaces (default 127.0.0.1).
  -retry-join ADDR         Join this address, retrying. Repeatable.
  -retry-interval D        Longest wait between -retry-join attempts (default 30s).
  -join ADDR               Join this address at start. Repeatable.
  -retry-join-wan ADDR     (servers) Join this WAN address, retrying. Repeatable.
  -join-wan ADDR           (servers) Join this WAN address at start. Repeatable.
  -encrypt KEY             Gossip encryption key (base64).
  -domain D                DNS domain (default consul).
  -recursor ADDR           Upstream DNS server for other names. Repeatable.
  -http-port N  -dns-port N  -serf-lan-port N  -serf-wan-port N  -server-port N
  -disable-host-node-id    Random node ID (cairn's only behaviour; =false is warned).
  -ui, -rejoin             Accepted; no effect yet (named in a warning at start).
  -log-level LEVEL         trace, debug, info, warn, error.
  -log-json                Log one JSON object per line.
  -pid-file FILE           Write the agent's PID to FILE; removed at a graceful exit.
  -hcl TEXT                An HCL config fragment, merged after the config files.
  -raft-protocol N         Checked: 3 is the only Raft protocol.
  -list-settings           Print how cairn treats every Consul flag and config key (JSON).

  Consul's other agent flags are accepted and named in a warning at start when
  they have no effect in cairn, or refused with the reason (-list-settings).
)";
}

}  // namespace cairn::config
