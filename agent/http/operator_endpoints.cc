// /v1/operator: usage, autopilot (configuration, health, state) and the
// raft leadership transfer. (Raft configuration and peer removal are with
// /v1/status in status_endpoints.cc.)
//
// "Leader" means the cairn leader throughout, as /v1/status/leader and the
// raft configuration report it: the server that won the leader election in
// etcd. A transfer moves it, and moves etcd's raft leadership along with it
// (leader_handoff.h).
#include <ctime>

#include "agent/agent.h"
#include "agent/consul_version.h"
#include "agent/http/autopilot_health.h"
#include "agent/http/blocking.h"
#include "agent/http/endpoints.h"
#include "agent/http/read_helpers.h"
#include "agent/http/reply.h"
#include "agent/membership.h"
#include "agent/state/autopilot_config.h"
#include "common/duration.h"

namespace cairn::http_api {

namespace {

int64_t wall_clock_unix_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// ---- usage -----------------------------------------------------------------

// The mesh kinds Consul counts in ConnectServiceInstances, always all listed.
constexpr std::string_view kConnectKinds[] = {"api-gateway",   "connect-native",
                                              "connect-proxy", "ingress-gateway",
                                              "mesh-gateway",  "terminating-gateway"};

// Connect is kept as the client sent it: look for "Native": true in it.
bool is_connect_native(const state::Service& s) {
  std::string_view c = s.connect_json;
  size_t at = c.find("\"Native\"");
  if (at == std::string_view::npos) return false;
  c.remove_prefix(at + 8);
  while (!c.empty() && (c.front() == ' ' || c.front() == ':' || c.front() == '\t' ||
                        c.front() == '\n' || c.front() == '\r'))
    c.remove_prefix(1);
  return c.starts_with("true");
}

void write_usage(JsonWriter& w, const Agent& agent, const state::Store& st, uint64_t index) {
  size_t instances = 0, billable = 0;
  std::map<std::string_view, size_t> connect;
  for (auto kind : kConnectKinds) connect[kind] = 0;
  for (const auto& [name, keys] : st.services_by_name()) {
    for (const auto& key : keys) {
      const state::Service* s = st.instance(key);
      if (s == nullptr) continue;
      ++instances;
      if (is_connect_native(*s)) ++connect["connect-native"];
      if (!s->kind.empty()) {
        if (auto it = connect.find(s->kind); it != connect.end()) ++it->second;
        continue;  // proxies and gateways are not billed
      }
      if (s->name != "consul") ++billable;
    }
  }
  w.begin_object();
  w.key("Usage");
  w.begin_object();
  w.key(agent.config().datacenter);
  w.begin_object();
  w.field("Services", static_cast<uint64_t>(st.services_by_name().size()));
  w.field("ServiceInstances", static_cast<uint64_t>(instances));
  w.key("ConnectServiceInstances");
  w.begin_object();
  for (const auto& [kind, n] : connect) w.field(kind, static_cast<uint64_t>(n));
  w.end_object();
  w.field("BillableServiceInstances", static_cast<uint64_t>(billable));
  w.field("Nodes", static_cast<uint64_t>(st.nodes().size()));
  w.end_object();
  w.end_object();
  // structs.Usage embeds QueryMeta: its fields are in the body too.
  w.field("Index", index);
  w.field("LastContact", int64_t{0});
  w.field("KnownLeader", !agent.leader_address().empty());
  w.field("ConsistencyLevel", "leader");
  w.field("NotModified", false);
  w.field("Backend", int64_t{0});
  w.field("ResultsFilteredByACLs", false);
  w.end_object();
}

void operator_usage(Agent& agent, const ExchangePtr& ex, const std::string&) {
  QueryOptions o;
  std::shared_ptr<ResultFilter> filter;
  if (!read_options(ex, agent, o, filter)) return;
  serve_read(agent, ex, o, [&agent, o] {
    const state::Store& st = agent.store();
    ReadResult res;
    res.index = st.table_index({state::kServicesTable, state::kNodesTable});
    res.watch = {std::string(state::kServicesTable), std::string(state::kNodesTable)};
    std::string body;
    JsonWriter w(body, o.pretty);
    write_usage(w, agent, st, res.index == 0 ? 1 : res.index);
    res.response = http::Response::json(std::move(body));
    return res;
  });
}

// ---- autopilot configuration -----------------------------------------------

void write_autopilot_config(JsonWriter& w, const state::AutopilotConfig& c) {
  w.begin_object();
  w.field("CleanupDeadServers", c.cleanup_dead_servers);
  w.field("LastContactThreshold", format_duration(c.last_contact_threshold));
  w.field("MaxTrailingLogs", c.max_trailing_logs);
  w.field("MinQuorum", c.min_quorum);
  w.field("ServerStabilizationTime", format_duration(c.server_stabilization_time));
  w.field("RedundancyZoneTag", c.redundancy_zone_tag);
  w.field("DisableUpgradeMigration", c.disable_upgrade_migration);
  w.field("UpgradeVersionTag", c.upgrade_version_tag);
  w.field("CreateIndex", c.raft.create_index);
  w.field("ModifyIndex", c.raft.modify_index);
  w.end_object();
}

void autopilot_get(Agent& agent, const ExchangePtr& ex, const std::string&) {
  QueryOptions o;
  std::shared_ptr<ResultFilter> filter;
  if (!read_options(ex, agent, o, filter)) return;
  serve_read(agent, ex, o, [&agent, o] {
    const state::Store& st = agent.store();
    ReadResult res;
    res.index = st.table_index({state::kAutopilotTable});
    res.watch = {std::string(state::kAutopilotTable)};
    const state::AutopilotConfig* c = st.autopilot_config();
    std::string body;
    JsonWriter w(body, o.pretty);
    write_autopilot_config(w, c ? *c : state::AutopilotConfig{});
    res.response = http::Response::json(std::move(body));
    return res;
  });
}

// ReadableDuration: a Go duration string, or a number of nanoseconds.
Nanos readable_duration(Decoder& d, const Value& v) {
  return d.duration(v);
}

// Consul decodes the body over its defaults: fields left out keep them.
void decode_autopilot_config(Decoder& d, const Value& body, state::AutopilotConfig& c) {
  d.object(body, [&](std::string_view k, const Value& f) {
    if (k == "cleanupdeadservers")
      c.cleanup_dead_servers = d.boolean(f);
    else if (k == "lastcontactthreshold")
      c.last_contact_threshold = readable_duration(d, f);
    else if (k == "maxtrailinglogs")
      c.max_trailing_logs = d.uinteger(f);
    else if (k == "minquorum")
      c.min_quorum = d.uinteger(f);
    else if (k == "serverstabilizationtime")
      c.server_stabilization_time = readable_duration(d, f);
    else if (k == "redundancyzonetag")
      c.redundancy_zone_tag = d.str(f);
    else if (k == "disableupgrademigration")
      c.disable_upgrade_migration = d.boolean(f);
    else if (k == "upgradeversiontag")
      c.upgrade_version_tag = d.str(f);
    // CreateIndex and ModifyIndex are read-only: the CAS index comes from ?cas=.
    return true;
  });
}

void autopilot_put(Agent& agent, const ExchangePtr& ex, const std::string&) {
  bool has_cas = ex->request.has_param("cas");
  uint64_t cas = 0;
  if (has_cas) {
    const std::string* text = ex->request.param("cas");
    char* end = nullptr;
    errno = 0;
    cas = text ? std::strtoull(text->c_str(), &end, 10) : 0;
    if (text == nullptr || text->empty() || *end != '\0' || errno != 0 || (*text)[0] == '-') {
      respond_error(ex, 400,
                    "Error parsing cas value: strconv.ParseUint: parsing \"" +
                        (text ? *text : std::string()) + "\": invalid syntax");
      return;
    }
  }
  state::AutopilotConfig config;
  Value body;
  ParseError perr;
  if (!parse_json(ex->request.body, body, perr) || !body.is_object()) {
    respond_error(
        ex, 400,
        "Error parsing autopilot config: " +
            (perr.message.empty() ? std::string("expected a JSON object") : perr.message));
    return;
  }
  try {
    Decoder d("", false);
    decode_autopilot_config(d, body, config);
  } catch (const DecodeError& e) {
    respond_error(ex, 400, "Error parsing autopilot config: " + format_decode_error(e));
    return;
  }
  agent.writer().write(
      [config, has_cas, cas](const state::Store& store, int64_t, state::Batch& out) {
        if (has_cas) {
          const state::AutopilotConfig* cur = store.autopilot_config();
          if ((cur ? cur->raft.modify_index : 0) != cas)
            return server::PlanStatus::condition_failed();
        }
        out.push_back(state::PutAutopilotConfig{config});
        return server::PlanStatus();
      },
      respond_written_true(ex));
}

// ---- autopilot health and state ----------------------------------------------

using FactsDone = std::function<void(bool ok, const std::string& error, std::vector<ServerFacts>)>;

std::string build_version(const gossip::Member& m) {
  auto it = m.tags.find("build");
  if (it == m.tags.end()) return {};
  return it->second.substr(0, it->second.find(':'));
}

// Gossip's view of each server, by node name.
std::map<std::string, const gossip::Member*> gossip_servers(
    const std::vector<gossip::Member>& all) {
  std::map<std::string, const gossip::Member*> out;
  for (const auto& m : all) {
    auto role = m.tags.find("role");
    if (role != m.tags.end() && role->second == "consul") out[m.name] = &m;
  }
  return out;
}

void fill_gossip_and_meta(Agent& agent, ServerFacts& f,
                          const std::map<std::string, const gossip::Member*>& gossip) {
  if (auto it = gossip.find(f.name); it != gossip.end()) {
    f.serf_status = std::string(gossip::member_status_name(it->second->status));
    f.version = build_version(*it->second);
  } else if (!agent.membership().enabled() && f.name == agent.identity().name) {
    f.serf_status = "alive";  // no gossip: this server is all there is
    f.version = kConsulCompatVersion;
  } else {
    f.serf_status = "none";
  }
  if (const state::Node* n = agent.store().node(f.name)) f.meta = n->meta;
}

void gather_server_facts(Agent& agent, FactsDone done) {
  server::ReplicatedState* rs = agent.replicated();
  if (rs == nullptr) {
    if (!agent.is_server()) {
      done(false, "No known Consul servers", {});
      return;
    }
    // -dev: a datacenter of one server, always its own leader.
    ServerFacts f;
    f.id = agent.identity().id;
    f.name = agent.identity().name;
    f.address = agent.leader_address();
    f.leader = true;
    f.last_term = 1;
    f.last_index = agent.store().index();
    std::vector<gossip::Member> members = agent.membership().members();
    fill_gossip_and_meta(agent, f, gossip_servers(members));
    if (f.serf_status == "none") f.serf_status = "alive";
    if (f.version.empty()) f.version = kConsulCompatVersion;
    done(true, {}, {std::move(f)});
    return;
  }
  rs->raft_peers([&agent, rs, done = std::move(done)](bool ok, const std::string& error,
                                                      std::vector<server::RaftPeer> peers) {
    if (!ok) {
      done(false, error, {});
      return;
    }
    rs->member_status([&agent, rs, peers = std::move(peers), done](bool status_ok,
                                                                   const etcd::StatusResponse& st) {
      std::vector<gossip::Member> members = agent.membership().members();
      auto gossip = gossip_servers(members);
      std::vector<ServerFacts> facts;
      for (const auto& p : peers) {
        ServerFacts f;
        f.id = p.id;
        f.name = p.node;
        f.address = p.address;
        f.leader = p.leader;
        f.voter = p.voter;
        f.last_term = status_ok ? st.raft_term : 0;
        f.last_index = rs->applied_revision();
        if (p.node == agent.identity().name) {
          // Only this server's own contact with the quorum can be measured here.
          uint64_t age = rs->last_contact_age_ms();
          f.last_contact = p.leader ? 0 : static_cast<Nanos>(age) * kMillisecond;
          f.contact_known_stale = age > server::ReplicatedState::kLeaderUnknownAfterMs;
        }
        fill_gossip_and_meta(agent, f, gossip);
        facts.push_back(std::move(f));
      }
      done(true, {}, std::move(facts));
    });
  });
}

// Health answers run on the loop thread; StableSince needs memory across them.
StableSinceTracker& stable_since() {
  static StableSinceTracker tracker;
  return tracker;
}

// Health and state are two views of one assessment of the servers.
using WriteReport = void (*)(JsonWriter&, const HealthReport&);

void answer_server_report(Agent& agent, const ExchangePtr& ex, WriteReport write,
                          bool unhealthy_is_429) {
  gather_server_facts(agent, [&agent, ex, write, unhealthy_is_429](
                                 bool ok, const std::string& error,
                                 std::vector<ServerFacts> facts) {
    if (!ok) {
      respond_error(ex, 500, error);
      return;
    }
    HealthReport r = assess_servers(std::move(facts), !agent.leader_address().empty(),
                                    stable_since(), wall_clock_unix_ms());
    std::string body;
    JsonWriter w(body, ex->request.has_param("pretty"));
    write(w, r);
    respond_json(ex, std::move(body), unhealthy_is_429 && !r.healthy ? 429 : 200);
  });
}

// Consul answers 429 while any server is unhealthy (the body is the same).
void autopilot_health(Agent& agent, const ExchangePtr& ex, const std::string&) {
  answer_server_report(agent, ex, write_health_reply, true);
}

void autopilot_state(Agent& agent, const ExchangePtr& ex, const std::string&) {
  answer_server_report(agent, ex, write_autopilot_state, false);
}

// ---- raft transfer-leader ----------------------------------------------------

void respond_transferred(const ExchangePtr& ex) {
  std::string body;
  JsonWriter w(body, ex->request.has_param("pretty"));
  w.begin_object();
  w.field("Success", true);
  w.end_object();
  respond_json(ex, std::move(body));
}

// The target: the peer ?id= names (its ID, as the raft configuration lists it,
// or its node name or address), else any other voter.
const server::RaftPeer* choose_target(const std::vector<server::RaftPeer>& peers,
                                      const std::string& id, std::string& error) {
  if (!id.empty()) {
    for (const auto& p : peers) {
      if (p.id != id && p.node != id && p.address != id) continue;
      if (!p.voter) {
        error = "server " + id + " is not a voter";
        return nullptr;
      }
      if (p.leader) {
        error = "server " + id + " is already the leader";
        return nullptr;
      }
      return &p;
    }
    error = "server id " + id + " not found in the raft configuration";
    return nullptr;
  }
  for (const auto& p : peers)
    if (p.voter && !p.leader) return &p;
  error = "cannot transfer leadership: no other voter in the raft configuration";
  return nullptr;
}

void raft_transfer_leader(Agent& agent, const ExchangePtr& ex, const std::string&) {
  const std::string* idp = ex->request.param("id");
  std::string id = idp ? *idp : std::string();
  server::ReplicatedState* rs = agent.replicated();
  if (rs == nullptr) {
    respond_error(ex, 500,
                  agent.is_server()
                      ? "cannot transfer leadership: this is the datacenter's only server"
                      : "No known Consul servers");
    return;
  }
  rs->raft_peers(
      [ex, rs, id](bool ok, const std::string& error, std::vector<server::RaftPeer> peers) {
        if (!ok) {
          respond_error(ex, 500, error);
          return;
        }
        std::string why;
        const server::RaftPeer* target = choose_target(peers, id, why);
        if (target == nullptr) {
          respond_error(ex, 500, why);
          return;
        }
        uint64_t member = std::strtoull(target->id.c_str(), nullptr, 16);
        rs->transfer_leadership(target->address, member, [ex](bool moved, const std::string& err) {
          if (!moved) {
            respond_error(ex, 500, "Failed to transfer Leader: " + err);
            return;
          }
          respond_transferred(ex);
        });
      });
}

}  // namespace

void add_operator_routes(Router& r, Agent& agent) {
  r.add("GET", "/v1/operator/usage", bind_endpoint(agent, operator_usage));
  r.add("GET", "/v1/operator/autopilot/configuration", bind_endpoint(agent, autopilot_get));
  r.add("PUT", "/v1/operator/autopilot/configuration", bind_endpoint(agent, autopilot_put));
  r.add("GET", "/v1/operator/autopilot/health", bind_endpoint(agent, autopilot_health));
  r.add("GET", "/v1/operator/autopilot/state", bind_endpoint(agent, autopilot_state));
  r.add("POST", "/v1/operator/raft/transfer-leader", bind_endpoint(agent, raft_transfer_leader));
}

}  // namespace cairn::http_api
