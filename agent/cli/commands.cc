// Small subcommands that are thin clients of the HTTP API, with Consul's output.
#include "agent/cli/commands.h"

#include <cstdio>

#include "agent/cli/client.h"
#include "agent/config/config.h"
#include "agent/config/encode_definition.h"
#include "agent/config/settings_support.h"
#include "cairn_version.h"
#include "common/files.h"
#include "common/http/url.h"
#include "common/json_writer.h"

namespace cairn::cli {

namespace {

// PUT with an error message for non-200 answers; true when it succeeded.
bool put(const ApiClient& api, const std::string& target, const std::string& body,
         const std::string& what) {
  http::ClientResponse resp;
  std::string err;
  if (!api.request("PUT", target, body, resp, err)) {
    fail("Error " + what + ": " + err);
    return false;
  }
  if (resp.status != 200) {
    fail("Error " + what + ": Unexpected response code: " + std::to_string(resp.status) + " (" +
         resp.body + ")");
    return false;
  }
  return true;
}

}  // namespace

int cmd_members(Args args) {
  ApiClient api = ApiClient::from_args(args);
  FlagSet f;
  if (auto err = parse_flags(args, {"detailed", "wan"}, {"status", "segment", "partition"}, f);
      !err.empty())
    return fail(err);
  Value members;
  if (!api.get_json(std::string("/v1/agent/members") + (f.has("wan") ? "?wan=1" : ""), members))
    return 1;
  static const char* kStates[] = {"none", "alive", "leaving", "left", "failed"};
  std::vector<std::vector<std::string>> rows;
  bool detailed = f.has("detailed");
  if (detailed)
    rows.push_back({"Node", "Address", "Status", "Tags"});
  else
    rows.push_back({"Node", "Address", "Status", "Type", "Build", "Protocol", "DC", "Partition",
                    "Segment"});
  std::string want = f.get("status");
  for (const auto& m : members.items) {
    const Value* st = m.find("status");
    int64_t s = st && st->kind == Value::Kind::integer ? st->i : 0;
    std::string status = s >= 0 && s <= 4 ? kStates[s] : "unknown";
    if (!want.empty() && status != want) continue;
    const Value* tags = m.find("tags");
    std::string addr = str(m.find("addr")) + ":" + str(m.find("port"));
    if (detailed) {
      std::string t;
      if (tags)
        for (const auto& [k, v] : tags->fields) t += (t.empty() ? "" : ",") + k + "=" + v.s;
      rows.push_back({str(m.find("name")), addr, status, t});
    } else {
      std::string role = tags && tags->find("role") && tags->find("role")->s == "consul" ? "server"
                                                                                         : "client";
      std::string build = tags && tags->find("build") ? tags->find("build")->s : "";
      build = build.substr(0, build.find(':'));
      rows.push_back({str(m.find("name")), addr, status, role, build,
                      tags && tags->find("vsn") ? tags->find("vsn")->s : "",
                      tags && tags->find("dc") ? tags->find("dc")->s : "", "default", "<all>"});
    }
  }
  std::printf("%s", columns(rows).c_str());
  return 0;
}

int cmd_catalog(Args args) {
  ApiClient api = ApiClient::from_args(args);
  if (args.empty()) return fail("Usage: cairn catalog services|nodes|datacenters [options]");
  std::string sub = args.front();
  args.erase(args.begin());
  FlagSet f;
  if (auto err = parse_flags(args, {"tags", "detailed"}, {"service", "node", "node-meta", "near", "filter"}, f);
      !err.empty())
    return fail(err);
  if (sub == "datacenters") {
    Value dcs;
    if (!api.get_json("/v1/catalog/datacenters", dcs)) return 1;
    for (const auto& d : dcs.items) std::printf("%s\n", d.s.c_str());
    return 0;
  }
  std::string q;
  for (const auto& m : f.all("node-meta")) q += "&node-meta=" + http::percent_encode(m);
  if (f.has("filter")) q += "&filter=" + http::percent_encode(f.get("filter"));
  if (sub == "nodes") {
    Value nodes;
    std::string target = "/v1/catalog/nodes?" + q;
    if (f.has("service")) target = "/v1/catalog/service/" + http::percent_encode(f.get("service")) + "?" + q;
    if (!api.get_json(target, nodes)) return 1;
    std::vector<std::vector<std::string>> rows{{"Node", "ID", "Address", "DC"}};
    for (const auto& n : nodes.items) {
      std::string id = str(n.find("id"));
      if (!f.has("detailed")) id = id.substr(0, 8);
      rows.push_back({str(n.find("node")), id, str(n.find("address")), str(n.find("datacenter"))});
    }
    std::printf("%s", columns(rows).c_str());
    return 0;
  }
  if (sub == "services") {
    Value services;
    if (f.has("node")) {
      if (!api.get_json("/v1/catalog/node/" + http::percent_encode(f.get("node")) + "?" + q, services))
        return 1;
      const Value* svc = services.find("services");
      Value names;
      names.kind = Value::Kind::object;
      if (svc)
        for (const auto& [id, s] : svc->fields) names.fields.emplace_back(str(s.find("service")), *s.find("tags"));
      services = names;
    } else if (!api.get_json("/v1/catalog/services?" + q, services)) {
      return 1;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& [name, tags] : services.fields) {
      std::string t;
      for (const auto& tag : tags.items) t += (t.empty() ? "" : ",") + tag.s;
      if (f.has("tags"))
        rows.push_back({name, t});
      else
        rows.push_back({name});
    }
    std::printf("%s", columns(rows).c_str());
    return 0;
  }
  return fail("Unknown catalog subcommand \"" + sub + "\" (services, nodes, datacenters)");
}

int cmd_services(Args args) {
  ApiClient api = ApiClient::from_args(args);
  if (args.empty()) return fail("Usage: cairn services register FILE | deregister ID");
  std::string sub = args.front();
  args.erase(args.begin());
  FlagSet f;
  if (auto err = parse_flags(args, {}, {"id", "name", "address", "port", "tag", "meta"}, f); !err.empty())
    return fail(err);
  if (sub == "register") {
    std::vector<config::ServiceDefinition> defs;
    if (f.positional.empty()) {
      if (!f.has("name")) return fail("Usage: cairn services register FILE (or -name NAME ...)");
      config::ServiceDefinition d;
      d.service.name = f.get("name");
      d.service.id = f.get("id");
      d.service.address = f.get("address");
      d.service.port = std::atoi(f.get("port", "0").c_str());
      d.service.tags = f.all("tag");
      defs.push_back(d);
    }
    for (const auto& path : f.positional) {
      config::Config tmp;
      std::string contents, err;
      if (!read_file(path, contents, err)) return fail("Error reading " + err);
      try {
        config::merge_file(tmp, path, contents);
      } catch (const DecodeError& e) {
        return fail("Error parsing " + format_decode_error(e));
      }
      if (tmp.services.empty()) return fail("Error: " + path + " defines no services");
      for (auto& s : tmp.services) defs.push_back(s);
    }
    for (const auto& d : defs) {
      std::string body;
      JsonWriter w(body);
      config::write_service_definition(w, d);
      if (!put(api, "/v1/agent/service/register", body, "registering service \"" + d.service.name + "\""))
        return 1;
      std::printf("Registered service: %s\n", d.service.name.c_str());
    }
    return 0;
  }
  if (sub == "deregister") {
    std::vector<std::string> ids = f.positional;
    if (f.has("id")) ids.push_back(f.get("id"));
    if (ids.empty()) return fail("Usage: cairn services deregister ID");
    for (const auto& id : ids) {
      if (!put(api, "/v1/agent/service/deregister/" + http::percent_encode(id), "",
               "deregistering service \"" + id + "\""))
        return 1;
      std::printf("Deregistered service: %s\n", id.c_str());
    }
    return 0;
  }
  return fail("Unknown services subcommand \"" + sub + "\" (register, deregister)");
}

int cmd_reload(Args args) {
  ApiClient api = ApiClient::from_args(args);
  if (!put(api, "/v1/agent/reload", "", "reloading")) return 1;
  std::printf("Configuration reload triggered\n");
  return 0;
}

int cmd_leave(Args args) {
  ApiClient api = ApiClient::from_args(args);
  if (!put(api, "/v1/agent/leave", "", "leaving")) return 1;
  std::printf("Graceful leave complete\n");
  return 0;
}

int cmd_validate(Args args) {
  FlagSet f;
  if (auto err = parse_flags(args, {"quiet"}, {"config-format"}, f); !err.empty()) return fail(err);
  if (f.positional.empty()) return fail("Usage: cairn validate [-quiet] FILE_OR_DIRECTORY...");
  config::Config cfg;
  std::vector<std::string> files, dirs;
  for (const auto& p : f.positional) (is_directory(p) ? dirs : files).push_back(p);
  std::string err = config::load_files(cfg, files, dirs, f.get("config-format"));
  if (err.empty()) err = config::validate(cfg);
  if (!err.empty()) return fail("Config validation failed: " + err);
  // The same names the agent's start-up warning gives.
  std::vector<std::string> ignored = config::no_effect_settings(cfg);
  if (!ignored.empty()) {
    std::string list;
    for (const auto& n : ignored) list += (list.empty() ? "" : ", ") + n;
    std::fprintf(stderr, "Warning: settings accepted but without effect in cairn: %s\n",
                 list.c_str());
  }
  if (!f.has("quiet")) std::printf("Configuration is valid!\n");
  return 0;
}

int cmd_info(Args args) {
  ApiClient api = ApiClient::from_args(args);
  Value self;
  if (!api.get_json("/v1/agent/self", self)) return 1;
  auto section = [](const char* name, const Value* v) {
    if (!v || !v->is_object()) return;
    std::printf("%s:\n", name);
    for (const auto& [k, val] : v->fields) {
      std::string s = val.kind == Value::Kind::boolean ? (val.b ? "true" : "false")
                      : val.kind == Value::Kind::integer ? std::to_string(val.i)
                                                         : val.s;
      if (val.is_object() || val.is_array()) continue;
      std::printf("\t%s = %s\n", k.c_str(), s.c_str());
    }
  };
  section("agent", self.find("config"));
  if (const Value* stats = self.find("stats"))
    for (const auto& [k, v] : stats->fields) section(k.c_str(), &v);
  return 0;
}

// Consul's RPC protocol versions as `consul version` reports them (the
// gossip "vsn" tags cairn advertises): default 2, understands 2 to 3.
constexpr int kRpcDefault = 2, kRpcMin = 2, kRpcMax = 3;

// `-format=json`: Consul's VersionInfo as its json.MarshalIndent prints it
// (three-space indent, fields in its struct's order). Version is the Consul
// release cairn answers as, so tools that gate on it work; cairn's own is in
// the pretty output and /v1/agent/self.
std::string version_json() {
  std::string out;
  out += "{\n   \"Version\": \"" CAIRN_CONSUL_API_VERSION "\",\n";
  out += "   \"Revision\": \"" CAIRN_REVISION "\",\n";
  out += "   \"Prerelease\": \"\",\n";
  out += "   \"BuildDate\": \"" CAIRN_BUILD_DATE "\",\n";
  out += "   \"RPC\": {\n";
  out += "      \"Default\": " + std::to_string(kRpcDefault) + ",\n";
  out += "      \"Min\": " + std::to_string(kRpcMin) + ",\n";
  out += "      \"Max\": " + std::to_string(kRpcMax) + "\n   }\n}\n";
  return out;
}

int cmd_version(Args args) {
  FlagSet f;
  if (auto err = parse_flags(args, {}, {"format"}, f); !err.empty()) return fail(err);
  std::string format = f.get("format", "pretty");
  if (format == "json") {
    std::fputs(version_json().c_str(), stdout);
    return 0;
  }
  if (format != "pretty") return fail("Unknown format: " + format);
  std::printf("cairn v%s\nRevision %s\nBuild Date %s\nConsul API compatibility: %s\n",
              CAIRN_VERSION, CAIRN_REVISION, CAIRN_BUILD_DATE, CAIRN_CONSUL_API_VERSION);
  std::printf(
      "Protocol %d spoken by default, understands %d to %d (agent will automatically use "
      "protocol >%d when speaking to compatible agents)\n",
      kRpcDefault, kRpcMin, kRpcMax, kRpcDefault);
  return 0;
}

int cmd_maint(Args args) {
  ApiClient api = ApiClient::from_args(args);
  FlagSet f;
  if (auto err = parse_flags(args, {"enable", "disable"}, {"service", "reason"}, f); !err.empty())
    return fail(err);
  if (f.has("enable") == f.has("disable")) {
    // No action: list what is in maintenance, as consul maint does.
    Value checks;
    if (!api.get_json("/v1/agent/checks", checks)) return 1;
    for (const auto& [id, c] : checks.fields) {
      if (id == "_node_maintenance")
        std::printf("Node:\n  Name:   %s\n  Reason: %s\n\n", str(c.find("node")).c_str(),
                    str(c.find("notes")).c_str());
      else if (id.rfind("_service_maintenance:", 0) == 0)
        std::printf("Service:\n  ID:     %s\n  Reason: %s\n\n", str(c.find("serviceid")).c_str(),
                    str(c.find("notes")).c_str());
    }
    if (f.has("enable")) return fail("Only one of -enable or -disable may be provided");
    return 0;
  }
  bool enable = f.has("enable");
  std::string q = std::string("?enable=") + (enable ? "true" : "false");
  if (f.has("reason")) q += "&reason=" + http::percent_encode(f.get("reason"));
  if (f.has("service")) {
    std::string id = f.get("service");
    if (!put(api, "/v1/agent/service/maintenance/" + http::percent_encode(id) + q, "",
             "toggling service maintenance"))
      return 1;
    std::printf("Service maintenance is now %s for \"%s\"\n", enable ? "enabled" : "disabled",
                id.c_str());
    return 0;
  }
  if (!put(api, "/v1/agent/maintenance" + q, "", "toggling node maintenance")) return 1;
  std::printf("Node maintenance is now %s\n", enable ? "enabled" : "disabled");
  return 0;
}

std::string usage() {
  return R"(Usage: cairn <command> [args]

Available commands:
    agent          Runs the cairn agent (see cairn agent -help)
    catalog        services|nodes|datacenters listings
    event          Fires a user event to the cluster
    force-leave    Forces a failed member into the left state
    info           Shows the agent's information
    join           Joins the agent to a cluster
    keygen         Generates a gossip encryption key
    keyring        Lists, installs, uses or removes gossip encryption keys
    monitor        Streams the agent's log lines
    operator       The servers' consensus (operator raft) and autopilot settings
    kv             get|put|delete|export|import keys in the KV store
    leave          Gracefully leaves and shuts down the agent
    lock           Runs a command while holding a lock (-n N: a semaphore slot)
    maint          Controls node or service maintenance mode
    members        Lists the members of the cluster
    reload         Re-reads the agent's configuration files
    rtt            Estimates the network round trip time between nodes
    services       register FILE / deregister ID
    snapshot       save|restore|inspect snapshots of the replicated state
    status         One screen: agent, node, members, local services and checks
    validate       Validates config files or directories
    version        Prints the version
    watch          Runs a handler whenever a blocking query's result changes

Every command but agent, validate and version talks to the local agent's HTTP
API: -http-addr, else CAIRN_HTTP_ADDR, else CONSUL_HTTP_ADDR, else 127.0.0.1:8500.
)";
}

int run_command(const std::string& command, Args args) {
  if (command == "status") return cmd_status(std::move(args));
  if (command == "members") return cmd_members(std::move(args));
  if (command == "catalog") return cmd_catalog(std::move(args));
  if (command == "services") return cmd_services(std::move(args));
  if (command == "reload") return cmd_reload(std::move(args));
  if (command == "validate") return cmd_validate(std::move(args));
  if (command == "info") return cmd_info(std::move(args));
  if (command == "version" || command == "-version" || command == "--version")
    return cmd_version(std::move(args));
  if (command == "maint") return cmd_maint(std::move(args));
  if (command == "leave") return cmd_leave(std::move(args));
  if (command == "kv") return cmd_kv(std::move(args));
  if (command == "lock") return cmd_lock(std::move(args));
  if (command == "watch") return cmd_watch(std::move(args));
  if (command == "join") return cmd_join(std::move(args));
  if (command == "force-leave") return cmd_force_leave(std::move(args));
  if (command == "keygen") return cmd_keygen(std::move(args));
  if (command == "keyring") return cmd_keyring(std::move(args));
  if (command == "operator") return cmd_operator(std::move(args));
  if (command == "monitor") return cmd_monitor(std::move(args));
  if (command == "rtt") return cmd_rtt(std::move(args));
  if (command == "event") return cmd_event(std::move(args));
  if (command == "snapshot") return cmd_snapshot(std::move(args));
  return -1;
}

}  // namespace cairn::cli
