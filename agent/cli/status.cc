// `cairn status`: one screen with everything a host operator asks first.
// Exit status: 0 all good, 1 agent unreachable, 2 something critical.
#include <cstdio>
#include <cstdlib>
#include <map>

#include "agent/cli/client.h"
#include "agent/cli/commands.h"
#include "common/files.h"
#include "common/json_writer.h"

namespace cairn::cli {

namespace {

const char* status_colour(const std::string& s) {
  if (s == "passing") return "32";
  if (s == "warning") return "33";
  return "31";
}

std::string one_line(std::string s, size_t max) {
  for (auto& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

}  // namespace

// The forwarder's own /status (cairn-dnsfwd's metrics_addr). found=false when
// nothing answers there: a host need not run the forwarder.
struct ForwarderStatus {
  bool found = false;
  bool healthy = false;
  Value body;
};

ForwarderStatus forwarder_status(const std::string& addr) {
  ForwarderStatus st;
  http::ClientRequest req;
  req.target = "/status";
  req.timeout_ms = 2000;
  http::ClientResponse resp;
  std::string err;
  if (!http::http_request(addr, req, resp, err) || resp.status != 200) return st;
  ParseError perr;
  if (!parse_json(resp.body, st.body, perr)) return st;
  st.found = true;
  const Value* h = st.body.find("healthy");
  st.healthy = h && h->kind == Value::Kind::boolean && h->b;
  return st;
}

// Where the forwarder serves /status: -dnsfwd-addr, CAIRN_DNSFWD_ADDR, else
// the metrics_addr of its config (-dnsfwd-config, CAIRN_DNSFWD_CONFIG, else
// the package's /etc/cairn/dnsfwd.yaml when present), else its default.
// "" with error set when a named config cannot be read.
std::string forwarder_status_address(const FlagSet& flags, std::string& error) {
  constexpr const char* kDefault = "127.0.0.1:8653";
  if (flags.has("dnsfwd-addr")) return flags.get("dnsfwd-addr");
  if (const char* a = std::getenv("CAIRN_DNSFWD_ADDR"); a && *a) return a;
  std::string path = flags.get("dnsfwd-config");
  bool named = !path.empty();
  if (!named)
    if (const char* p = std::getenv("CAIRN_DNSFWD_CONFIG"); p && *p) {
      path = p;
      named = true;
    }
  if (!named) path = "/etc/cairn/dnsfwd.yaml";
  std::string text;
  if (!read_file(path, text, error)) {
    if (named) return "";
    error.clear();  // no packaged forwarder config: the forwarder's default
    return kDefault;
  }
  Value root;
  ParseError perr;
  if (!parse_yaml(text, root, perr)) {
    error = path + ":" + std::to_string(perr.line) + ": " + perr.message;
    return "";
  }
  const Value* m = root.is_object() ? root.find("metricsaddr") : nullptr;
  if (!m && root.is_object()) m = root.find("metrics");
  if (!m || m->s.empty()) return kDefault;
  if (m->s == "off" || m->s == "false") return "";  // the forwarder serves no status
  return m->s;
}

int cmd_status(Args args) {
  ApiClient api = ApiClient::from_args(args);
  FlagSet flags;
  if (auto err = parse_flags(args, {"json"}, {"dnsfwd-addr", "dnsfwd-config"}, flags); !err.empty())
    return fail(err);
  bool json = flags.has("json");
  std::string fwd_error;
  std::string fwd_addr = forwarder_status_address(flags, fwd_error);
  if (!fwd_error.empty()) return fail("-dnsfwd-config: " + fwd_error);
  ForwarderStatus fwd = fwd_addr.empty() ? ForwarderStatus{} : forwarder_status(fwd_addr);

  Value self, services, checks, members;
  http::ClientResponse resp;
  std::string err;
  bool reachable = api.request("GET", "/v1/agent/self", "", resp, err, 5000) && resp.status == 200;
  ParseError perr;
  if (reachable) reachable = parse_json(resp.body, self, perr);
  if (!reachable) {
    if (json) {
      std::printf("{\"Agent\":{\"Reachable\":false,\"Address\":");
      std::string a;
      JsonWriter::quote(a, api.address);
      std::printf("%s,\"Error\":", a.c_str());
      a.clear();
      JsonWriter::quote(a, err.empty() ? resp.body : err);
      std::printf("%s}}\n", a.c_str());
    } else {
      std::fprintf(stderr, "cairn agent at %s: unreachable (%s)\n", api.address.c_str(),
                   err.empty() ? resp.body.c_str() : err.c_str());
    }
    return 1;
  }
  bool ok = api.get_json("/v1/agent/services", services) &&
            api.get_json("/v1/agent/checks", checks) && api.get_json("/v1/agent/members", members);
  if (!ok) return 1;
  std::string leader;
  if (api.request("GET", "/v1/status/leader", "", resp, err, 5000) && resp.status == 200) {
    Value l;
    if (parse_json(resp.body, l, perr)) leader = l.s;
  }

  // A server's etcd member (Stats.etcd): running, or why it waits.
  const Value* stats = self.find("stats");
  const Value* etcd = stats ? stats->find("etcd") : nullptr;
  std::string member = str(etcd ? etcd->find("member") : nullptr);
  std::string waiting_for = str(etcd ? etcd->find("waitingfor") : nullptr);
  std::string alarm = str(etcd ? etcd->find("alarm") : nullptr);
  // A client agent's server (Stats.rpc).
  const Value* rpc = stats ? stats->find("rpc") : nullptr;
  std::string rpc_server = str(rpc ? rpc->find("server") : nullptr);
  std::string rpc_addr = str(rpc ? rpc->find("serveraddr") : nullptr);
  std::string rpc_contact = str(rpc ? rpc->find("lastcontactms") : nullptr);
  bool rpc_in_sync = str(rpc ? rpc->find("cataloginsync") : nullptr) == "true";
  std::string local_view = str(rpc ? rpc->find("localview") : nullptr);
  std::string view_services = str(rpc ? rpc->find("viewservices") : nullptr);
  std::string last_contact = etcd ? str(etcd->find("lastcontactms")) : "0";
  if (!etcd && rpc) last_contact = rpc_contact;  // a client: its contact with its server
  if (last_contact.empty()) last_contact = "0";
  const Value* cfg = self.find("config");
  std::string node = str(cfg ? cfg->find("nodename") : nullptr);
  std::string dc = str(cfg ? cfg->find("datacenter") : nullptr);
  bool server = cfg && cfg->find("server") && cfg->find("server")->b;
  std::map<std::string, int> member_states;
  static const char* kStates[] = {"none", "alive", "leaving", "left", "failed"};
  for (const auto& m : members.items) {
    const Value* st = m.find("status");
    int64_t s = st && st->kind == Value::Kind::integer ? st->i : 0;
    member_states[s >= 0 && s <= 4 ? kStates[s] : "unknown"]++;
  }
  bool critical = false;
  std::map<std::string, int> by_state;
  for (const auto& [id, c] : checks.fields) {
    std::string s = str(c.find("status"));
    by_state[s]++;
    if (s == "critical") critical = true;
  }

  if (json) {
    std::string out;
    JsonWriter w(out, true);
    w.begin_object();
    w.key("Agent");
    w.begin_object();
    w.field("Reachable", true);
    w.field("Address", api.address);
    w.field("Node", node);
    w.field("Datacenter", dc);
    w.field("Role", server ? "server" : "client");
    w.field("Leader", leader);
    w.field("LastContactMs", static_cast<int64_t>(std::strtoll(last_contact.c_str(), nullptr, 10)));
    if (etcd) {
      w.field("EtcdMember", member);
      w.field("WaitingFor", waiting_for);
      w.field("Alarm", alarm);
    }
    if (rpc) {
      w.field("Server", rpc_server);
      w.field("ServerAddr", rpc_addr);
      w.field("CatalogInSync", rpc_in_sync);
      w.field("LocalView", local_view);
      w.field("ViewServices", view_services);
    }
    w.end_object();
    w.key("Members");
    w.begin_object();
    for (const auto& [k, v] : member_states) w.field(k, v);
    w.end_object();
    w.key("Services");
    w.begin_array();
    for (const auto& [id, s] : services.fields) {
      w.begin_object();
      w.field("ID", id);
      w.field("Name", str(s.find("service")));
      w.field("Port", static_cast<int64_t>(s.find("port") ? s.find("port")->i : 0));
      w.key("Checks");
      w.begin_array();
      for (const auto& [cid, c] : checks.fields) {
        if (str(c.find("serviceid")) != id) continue;
        w.begin_object();
        w.field("CheckID", cid);
        w.field("Name", str(c.find("name")));
        w.field("Status", str(c.find("status")));
        w.field("Output", str(c.find("output")));
        w.end_object();
      }
      w.end_array();
      w.end_object();
    }
    w.end_array();
    w.key("NodeChecks");
    w.begin_array();
    for (const auto& [cid, c] : checks.fields) {
      if (!str(c.find("serviceid")).empty()) continue;
      w.begin_object();
      w.field("CheckID", cid);
      w.field("Status", str(c.find("status")));
      w.field("Output", str(c.find("output")));
      w.end_object();
    }
    w.end_array();
    w.key("Forwarder");
    w.begin_object();
    w.field("Address", fwd_addr);
    w.field("Running", fwd.found);
    if (fwd.found) {
      w.field("Healthy", fwd.healthy);
      w.key("Upstreams");
      w.begin_array();
      if (const Value* groups = fwd.body.find("groups"))
        for (const auto& g : groups->items)
          if (const Value* ups = g.find("upstreams"))
            for (const auto& u : ups->items) {
              w.begin_object();
              w.field("Group", str(g.find("name")));
              w.field("Address", str(u.find("address")));
              const Value* uh = u.find("healthy");
              w.field("Healthy", uh && uh->b);
              w.end_object();
            }
      w.end_array();
    }
    w.end_object();
    w.field("Critical", critical || (fwd.found && !fwd.healthy));
    w.end_object();
    std::printf("%s\n", out.c_str());
    return critical || (fwd.found && !fwd.healthy) ? 2 : 0;
  }

  std::printf("%s %s  %s\n", colour("cairn agent", "1").c_str(), api.address.c_str(),
              colour("reachable", "32").c_str());
  std::printf("  node        %s  datacenter %s  role %s\n", node.c_str(), dc.c_str(),
              server ? "server" : "client");
  std::printf("  leader      %s%s\n",
              leader.empty() ? colour("none", "31").c_str() : leader.c_str(),
              leader.empty() ? "" : ("  last contact " + last_contact + "ms").c_str());
  if (etcd)
    std::printf("  etcd        %s%s\n",
                member == "running" ? colour(member, "32").c_str() : colour(member, "33").c_str(),
                waiting_for.empty() ? "" : ("  " + waiting_for).c_str());
  if (rpc)
    std::printf("  server      %s%s%s\n",
                rpc_server.empty() ? colour("none known", "31").c_str()
                                   : (rpc_server + " (" + rpc_addr + ")").c_str(),
                rpc_contact.empty() ? "" : ("  last contact " + rpc_contact + "ms").c_str(),
                rpc_server.empty() ? "" : (rpc_in_sync ? "  catalog in sync" : "  catalog syncing"));
  if (rpc)
    std::printf("  local view  %s%s\n",
                local_view == "current" ? colour(local_view, "32").c_str()
                                        : colour(local_view, "33").c_str(),
                view_services.empty() ? "" : ("  " + view_services + " services held").c_str());
  if (!alarm.empty())
    std::printf("  store       %s\n",
                colour("full (etcd " + alarm + " alarm): writes are refused", "31").c_str());
  std::string ms;
  for (const auto& [k, v] : member_states) ms += std::to_string(v) + " " + k + "  ";
  std::printf("  members     %s\n", ms.c_str());
  std::string cs;
  for (const auto& [k, v] : by_state) cs += std::to_string(v) + " " + k + "  ";
  std::printf("  checks      %s\n", cs.empty() ? "none" : cs.c_str());
  if (!fwd.found) {
    std::printf("  forwarder   %s (%s)\n", colour("not running", "33").c_str(), fwd_addr.c_str());
  } else {
    std::printf("  forwarder   %s (%s)\n",
                fwd.healthy ? colour("healthy", "32").c_str() : colour("unhealthy", "31").c_str(),
                fwd_addr.c_str());
    if (const Value* groups = fwd.body.find("groups"))
      for (const auto& g : groups->items)
        if (const Value* ups = g.find("upstreams"))
          for (const auto& u : ups->items) {
            const Value* uh = u.find("healthy");
            bool ok = uh && uh->b;
            std::printf("              %-8s %-22s %s\n", str(g.find("name")).c_str(),
                        str(u.find("address")).c_str(),
                        ok ? colour("up", "32").c_str() : colour("down", "31").c_str());
          }
  }
  std::printf("\n");
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"SERVICE", "ID", "PORT", "CHECK", "STATUS", "OUTPUT"});
  for (const auto& [id, s] : services.fields) {
    bool any = false;
    for (const auto& [cid, c] : checks.fields) {
      if (str(c.find("serviceid")) != id) continue;
      std::string st = str(c.find("status"));
      rows.push_back({any ? "" : str(s.find("service")), any ? "" : id,
                      any ? "" : str(s.find("port")), cid, colour(st, status_colour(st)),
                      one_line(str(c.find("output")), 60)});
      any = true;
    }
    if (!any) rows.push_back({str(s.find("service")), id, str(s.find("port")), "-", "-", ""});
  }
  for (const auto& [cid, c] : checks.fields) {
    if (!str(c.find("serviceid")).empty()) continue;
    std::string st = str(c.find("status"));
    rows.push_back({"(node)", "", "", cid, colour(st, status_colour(st)),
                    one_line(str(c.find("output")), 60)});
  }
  std::printf("%s", columns(rows).c_str());
  if (fwd.found && !fwd.healthy) critical = true;
  if (critical) std::printf("\n%s\n", colour("something is critical", "31").c_str());
  return critical ? 2 : 0;
}

}  // namespace cairn::cli
