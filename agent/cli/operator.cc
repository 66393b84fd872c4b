// `cairn operator raft list-peers | remove-peer`: the servers' consensus
// membership (their etcd members), with Consul's output.
#include <cstdio>

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

}  // namespace

int cmd_operator(Args args) {
  ApiClient api = ApiClient::from_args(args);
  if (args.size() < 2 || args[0] != "raft")
    return fail("Usage: cairn operator raft <list-peers|remove-peer> [options]");
  std::string sub = args[1];
  Args rest(args.begin() + 2, args.end());
  if (sub == "list-peers") return raft_list_peers(api, std::move(rest));
  if (sub == "remove-peer") return raft_remove_peer(api, std::move(rest));
  return fail("Unknown operator raft subcommand: " + sub);
}

}  // namespace cairn::cli
