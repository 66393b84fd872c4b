// `cairn operator raft list-peers | remove-peer | transfer-leader` and
// `cairn operator autopilot get-config | set-config | state`: the servers'
// consensus (their etcd members) and autopilot settings, with Consul's output.
#include <cstdio>

#include "common/duration.h"
#include "common/json_writer.h"

#include "agent/cli/client.h"
#include "agent/cli/commands.h"
#include "common/http/url.h"

namespace cairn::cli {

namespace {

int raft_list_peers(ApiClient& api, Args args) {
  FlagSet f;
  if (auto e = parse_flags(args, {"stale"}, {}, f); !e.empty()) return fail(e);
  Value cfg;
  if (!api.get_json("/v1/operator/raft/configuration", cfg)) return 1;
  std::vector<std::vector<std::string>> rows = {
      {"Node", "ID", "Address", "State", "Voter", "RaftProtocol"}};
  if (const Value* servers = cfg.find("servers")) {
    for (const Value& s : servers->items) {
      const Value* leader = s.find("leader");
      const Value* voter = s.find("voter");
      rows.push_back({str(s.find("node")), str(s.find("id")), str(s.find("address")),
                      leader && leader->b ? "leader" : "follower",
                      voter && voter->b ? "true" : "false", str(s.find("protocolversion"))});
    }
  }
  std::printf("%s", columns(rows).c_str());
  return 0;
}

int raft_remove_peer(ApiClient& api, Args args) {
  FlagSet f;
  if (auto e = parse_flags(args, {}, {"id", "address"}, f); !e.empty()) return fail(e);
  if (f.has("id") == f.has("address"))
    return fail("Must specify either -id or -address, but not both");
  std::string what = f.has("id") ? "id" : "address";
  std::string target = "/v1/operator/raft/peer?" + what + "=" + http::percent_encode(f.get(what));
  http::ClientResponse resp;
  std::string err;
  if (!api.request("DELETE", target, "", resp, err))
    return fail("Error removing peer: " + err);
  if (resp.status != 200)
    return fail("Error removing peer: Unexpected response code: " + std::to_string(resp.status) +
                " (" + resp.body + ")");
  std::printf("Removed peer with %s \"%s\"\n", what.c_str(), f.get(what).c_str());
  return 0;
}

int raft_transfer_leader(ApiClient& api, Args args) {
  FlagSet f;
  if (auto e = parse_flags(args, {"stale"}, {"id"}, f); !e.empty()) return fail(e);
  std::string target = "/v1/operator/raft/transfer-leader";
  if (f.has("id")) target += "?id=" + http::percent_encode(f.get("id"));
  http::ClientResponse resp;
  std::string err;
  if (!api.request("POST", target, "", resp, err))
    return fail("Error transfering leadership: Failed to transfer leadership " + err);
  if (resp.status != 200)
    return fail(
        "Error transfering leadership: Failed to transfer leadership Unexpected response "
        "code: " +
        std::to_string(resp.status) + " (" + resp.body + ")");
  Value v;
  ParseError perr;
  const Value* ok = parse_json(resp.body, v, perr) ? v.find("success") : nullptr;
  if (ok == nullptr || !ok->b)
    return fail("Error transfering leadership: Failed to transfer leadership");
  std::printf("Success\n");
  return 0;
}

// A duration as Go prints it ("200ms", "10s"), from the API's string.
std::string duration_text(const Value* v) {
  std::string text = str(v);
  if (auto d = parse_duration(text)) return format_duration(*d);
  return text;
}

int autopilot_get_config(ApiClient& api, Args args) {
  FlagSet f;
  if (auto e = parse_flags(args, {"stale"}, {}, f); !e.empty()) return fail(e);
  Value c;
  if (!api.get_json("/v1/operator/autopilot/configuration", c)) return 1;
  auto boolean = [&](const char* k) {
    const Value* v = c.find(k);
    return v && v->b ? "true" : "false";
  };
  std::printf("CleanupDeadServers = %s\n", boolean("cleanupdeadservers"));
  std::printf("LastContactThreshold = %s\n", duration_text(c.find("lastcontactthreshold")).c_str());
  std::printf("MaxTrailingLogs = %llu\n",
              static_cast<unsigned long long>(num(c.find("maxtrailinglogs"))));
  std::printf("MinQuorum = %llu\n", static_cast<unsigned long long>(num(c.find("minquorum"))));
  std::printf("ServerStabilizationTime = %s\n",
              duration_text(c.find("serverstabilizationtime")).c_str());
  std::printf("RedundancyZoneTag = \"%s\"\n", str(c.find("redundancyzonetag")).c_str());
  std::printf("DisableUpgradeMigration = %s\n", boolean("disableupgrademigration"));
  std::printf("UpgradeVersionTag = \"%s\"\n", str(c.find("upgradeversiontag")).c_str());
  return 0;
}

// The flags of set-config and the API fields they set; unset flags keep the
// current value (Consul reads, changes and writes back with a CAS).
struct AutopilotFlag {
  const char* flag;
  const char* field;
  enum Kind { boolean, duration, number, text } kind;
};
constexpr AutopilotFlag kAutopilotFlags[] = {
    {"cleanup-dead-servers", "CleanupDeadServers", AutopilotFlag::boolean},
    {"last-contact-threshold", "LastContactThreshold", AutopilotFlag::duration},
    {"max-trailing-logs", "MaxTrailingLogs", AutopilotFlag::number},
    {"min-quorum", "MinQuorum", AutopilotFlag::number},
    {"server-stabilization-time", "ServerStabilizationTime", AutopilotFlag::duration},
    {"redundancy-zone-tag", "RedundancyZoneTag", AutopilotFlag::text},
    {"disable-upgrade-migration", "DisableUpgradeMigration", AutopilotFlag::boolean},
    {"upgrade-version-tag", "UpgradeVersionTag", AutopilotFlag::text},
};

// The JSON value of one set-config flag; "" and an error when it is invalid.
std::string autopilot_value(const AutopilotFlag& fl, const std::string& text, std::string& error) {
  switch (fl.kind) {
    case AutopilotFlag::boolean:
      if (text == "true" || text == "1") return "true";
      if (text == "false" || text == "0") return "false";
      error = "invalid boolean value \"" + text + "\" for -" + fl.flag;
      return {};
    case AutopilotFlag::duration:
      if (!parse_duration(text)) {
        error = "invalid value \"" + text + "\" for flag -" + fl.flag + ": " + duration_error(text);
        return {};
      }
      return "\"" + text + "\"";
    case AutopilotFlag::number:
      if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
        error = "invalid value \"" + text + "\" for flag -" + fl.flag;
        return {};
      }
      return text;
    case AutopilotFlag::text: {
      std::string out;
      JsonWriter w(out);
      w.string(text);
      return out;
    }
  }
  return {};
}

int autopilot_set_config(ApiClient& api, Args args) {
  std::vector<std::string> names;
  for (const auto& fl : kAutopilotFlags) names.emplace_back(fl.flag);
  FlagSet f;
  if (auto e = parse_flags(args, {}, names, f); !e.empty()) return fail(e);
  http::ClientResponse resp;
  std::string err;
  if (!api.request("GET", "/v1/operator/autopilot/configuration", "", resp, err) ||
      resp.status != 200)
    return fail("Error querying Autopilot configuration: " +
                (err.empty() ? std::to_string(resp.status) + " (" + resp.body + ")" : err));
  Value current;
  ParseError perr;
  if (!parse_json(resp.body, current, perr) || !current.is_object())
    return fail("Error querying Autopilot configuration: " + perr.message);
  // The body: the current fields with the flags' values over them.
  std::string body = "{";
  for (const auto& fl : kAutopilotFlags) {
    std::string value;
    if (f.has(fl.flag)) {
      value = autopilot_value(fl, f.get(fl.flag), err);
      if (!err.empty()) return fail(err);
    } else if (const Value* v = current.find(normalize_key(fl.field))) {
      std::string t = str(v);
      value = fl.kind == AutopilotFlag::boolean ? (v->b ? "true" : "false")
                                                : autopilot_value(fl, t, err);
      if (!err.empty()) return fail(err);
    } else {
      continue;
    }
    if (body.size() > 1) body += ',';
    body += "\"" + std::string(fl.field) + "\":" + value;
  }
  body += "}";
  uint64_t modify = num(current.find("modifyindex"));
  if (!api.request("PUT", "/v1/operator/autopilot/configuration?cas=" + std::to_string(modify),
                   body, resp, err))
    return fail("Error updating Autopilot configuration: " + err);
  if (resp.status != 200)
    return fail("Error updating Autopilot configuration: Unexpected response code: " +
                std::to_string(resp.status) + " (" + resp.body + ")");
  if (resp.body.find("true") != std::string::npos) {
    std::printf("Configuration updated!\n");
    return 0;
  }
  std::printf("Configuration could not be atomically updated, please try again\n");
  return 1;
}

int autopilot_state(ApiClient& api, Args args) {
  FlagSet f;
  if (auto e = parse_flags(args, {"stale"}, {"format"}, f); !e.empty()) return fail(e);
  std::string format = f.get("format", "pretty");
  if (format != "pretty" && format != "json") return fail("Invalid format: " + format);
  http::ClientResponse resp;
  std::string err;
  if (!api.request("GET", "/v1/operator/autopilot/state", "", resp, err))
    return fail("Error querying Autopilot state: " + err);
  if (resp.status != 200)
    return fail("Error querying Autopilot state: Unexpected response code: " +
                std::to_string(resp.status) + " (" + resp.body + ")");
  if (format == "json") {
    std::printf("%s\n", resp.body.c_str());
    return 0;
  }
  Value st;
  ParseError perr;
  if (!parse_json(resp.body, st, perr))
    return fail("Error decoding Autopilot state: " + perr.message);
  auto yes = [](const Value* v) { return v && v->b ? "true" : "false"; };
  std::printf("Healthy:                      %s\n", yes(st.find("healthy")));
  std::printf("Failure Tolerance:            %llu\n",
              static_cast<unsigned long long>(num(st.find("failuretolerance"))));
  std::printf("Optimistic Failure Tolerance: %llu\n",
              static_cast<unsigned long long>(num(st.find("optimisticfailuretolerance"))));
  std::printf("Leader:                       %s\n", str(st.find("leader")).c_str());
  std::printf("Voters:\n");
  if (const Value* voters = st.find("voters"))
    for (const Value& v : voters->items) std::printf("   %s\n", str(&v).c_str());
  std::printf("\nServers:\n");
  if (const Value* servers = st.find("servers")) {
    for (const auto& [id, s] : servers->fields) {
      std::printf("   %s\n", str(s.find("id")).c_str());
      std::printf("      Name:            %s\n", str(s.find("name")).c_str());
      std::printf("      Address:         %s\n", str(s.find("address")).c_str());
      std::printf("      Version:         %s\n", str(s.find("version")).c_str());
      std::printf("      Status:          %s\n", str(s.find("status")).c_str());
      std::printf("      Node Type:       %s\n", str(s.find("nodetype")).c_str());
      std::printf("      Node Status:     %s\n", str(s.find("nodestatus")).c_str());
      std::printf("      Healthy:         %s\n", yes(s.find("healthy")));
      std::printf("      Last Contact:    %s\n", str(s.find("lastcontact")).c_str());
      std::printf("      Last Term:       %llu\n",
                  static_cast<unsigned long long>(num(s.find("lastterm"))));
      std::printf("      Last Index:      %llu\n",
                  static_cast<unsigned long long>(num(s.find("lastindex"))));
    }
  }
  return 0;
}

}  // namespace

int cmd_operator(Args args) {
  ApiClient api = ApiClient::from_args(args);
  constexpr const char* kUsage =
      "Usage: cairn operator raft <list-peers|remove-peer|transfer-leader> [options]\n"
      "       cairn operator autopilot <get-config|set-config|state> [options]";
  if (args.size() < 2 || (args[0] != "raft" && args[0] != "autopilot")) return fail(kUsage);
  std::string sub = args[1];
  Args rest(args.begin() + 2, args.end());
  if (args[0] == "autopilot") {
    if (sub == "get-config") return autopilot_get_config(api, std::move(rest));
    if (sub == "set-config") return autopilot_set_config(api, std::move(rest));
    if (sub == "state") return autopilot_state(api, std::move(rest));
    return fail("Unknown operator autopilot subcommand: " + sub);
  }
  if (sub == "list-peers") return raft_list_peers(api, std::move(rest));
  if (sub == "remove-peer") return raft_remove_peer(api, std::move(rest));
  if (sub == "transfer-leader") return raft_transfer_leader(api, std::move(rest));
  return fail("Unknown operator raft subcommand: " + sub);
}

}  // namespace cairn::cli
