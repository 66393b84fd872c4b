// GET /v1/agent/self: this agent's configuration, its gossip member, its
// network coordinate and its stats, in the shape Consul's clients read
// (Consul's AgentSelf: Config, DebugConfig = its sanitized runtime config,
// Coord, Member, Stats, Meta).
#include <sstream>

#include "agent/agent.h"
#include "agent/consul_version.h"
#include "agent/forward/catalog_push.h"
#include "agent/forward/catalog_mirror.h"
#include "agent/forward/forwarder.h"
#include "agent/gossip/coordinate.h"
#include "agent/http/endpoints.h"
#include "agent/http/reply.h"
#include "agent/membership.h"
#include "cairn_version.h"

namespace cairn::http_api {

namespace {

// Consul renders the addresses of its runtime config as "tcp://ip:port".
std::string address_url(const char* scheme, const std::string& ip, int port) {
  bool v6 = ip.find(':') != std::string::npos;
  return std::string(scheme) + "://" + (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

std::vector<std::string> client_addresses(const config::Config& cfg) {
  std::vector<std::string> out;
  std::istringstream in(cfg.client_addr);
  for (std::string host; in >> host;) out.push_back(host);
  return out;
}

// A listener on every client address, as Consul lists HTTPAddrs and DNSAddrs.
std::vector<std::string> listener_urls(const std::vector<std::string>& hosts, int port,
                                       std::initializer_list<const char*> schemes) {
  std::vector<std::string> out;
  if (port <= 0) return out;
  for (const char* scheme : schemes)
    for (const auto& h : hosts) out.push_back(address_url(scheme, h, port));
  return out;
}

void write_flat_map(JsonWriter& w, std::string_view name,
                    const std::map<std::string, std::string>& m) {
  w.key(name);
  w.begin_object();
  for (const auto& [k, v] : m) w.field(k, v);
  w.end_object();
}

// The fields of Consul's DebugConfig that clients read: the addresses and
// ports to join or dial (the Go client's tests join SerfAdvertiseAddrLAN),
// the server settings, the feature switches tools check before using them.
void write_debug_config(JsonWriter& w, const Agent& agent) {
  const config::Config& cfg = agent.config();
  const local::NodeIdentity& id = agent.identity();
  // One address for every network: cairn has no separate WAN advertise address.
  const std::string& advertise = id.address;
  std::string bind = cfg.bind_addr.empty() ? "0.0.0.0" : cfg.bind_addr;
  std::vector<std::string> clients = client_addresses(cfg);
  bool server = agent.is_server();
  bool wan = server && cfg.ports.serf_wan > 0;
  w.key("DebugConfig");
  w.begin_object();
  w.field("AdvertiseAddrLAN", advertise);
  w.field("AdvertiseAddrWAN", advertise);
  w.field("BindAddr", bind);
  // Consul turns bootstrap_expect = 1 into bootstrap mode.
  w.field("Bootstrap", server && (cfg.dev || cfg.bootstrap_expect == 1));
  w.field("BootstrapExpect", cfg.bootstrap_expect > 1 ? cfg.bootstrap_expect : 0);
  w.string_array("ClientAddrs", clients);
  w.field("ConnectEnabled", false);
  w.string_array("DNSAddrs", listener_urls(clients, agent.dns_port(), {"tcp", "udp"}));
  w.field("DNSDomain", cfg.domain);
  w.field("DNSPort", cfg.ports.dns);
  w.string_array("DNSRecursors", cfg.recursors);
  w.field("DataDir", cfg.data_dir);
  w.field("Datacenter", cfg.datacenter);
  w.field("DevMode", cfg.dev);
  w.field("DisableCoordinates", false);
  w.field("EnableDebug", false);
  w.field("EnableLocalScriptChecks", cfg.enable_local_script_checks);
  w.field("EnableRemoteScriptChecks", cfg.enable_script_checks);
  w.field("EnableScriptChecks", cfg.enable_script_checks);  // cairn's earlier name, kept
  w.field("GRPCPort", -1);                                  // no gRPC listener: Consul's "disabled"
  w.string_array("HTTPAddrs", listener_urls(clients, agent.http_port(), {"tcp"}));
  w.field("HTTPPort", cfg.ports.http);
  w.field("HTTPSPort", -1);
  w.field("LeaveOnTerm", cfg.leave_on_terminate.value_or(!server));
  w.field("NodeID", id.id);
  write_flat_map(w, "NodeMeta", id.meta);
  w.field("NodeName", id.name);
  w.field("PrimaryDatacenter", config::primary_datacenter(cfg));
  w.field("RPCAdvertiseAddr", address_url("tcp", advertise, cfg.ports.server));
  w.field("RPCBindAddr", address_url("tcp", bind, cfg.ports.server));
  w.field("RaftProtocol", 3);
  w.field("RejoinAfterLeave", cfg.rejoin_after_leave);
  w.string_array("RetryJoinLAN", cfg.retry_join);
  w.string_array("RetryJoinWAN", cfg.retry_join_wan);
  w.field("Revision", CAIRN_REVISION);
  w.field("SerfAdvertiseAddrLAN", address_url("tcp", advertise, cfg.ports.serf_lan));
  w.field("SerfAdvertiseAddrWAN", wan ? address_url("tcp", advertise, cfg.ports.serf_wan) : "");
  w.field("SerfBindAddrLAN", address_url("tcp", bind, cfg.ports.serf_lan));
  w.field("SerfBindAddrWAN", wan ? address_url("tcp", bind, cfg.ports.serf_wan) : "");
  w.field("SerfPortLAN", cfg.ports.serf_lan);
  w.field("SerfPortWAN", wan ? cfg.ports.serf_wan : -1);
  w.field("ServerMode", server);
  w.field("ServerPort", cfg.ports.server);
  w.field("SkipLeaveOnInt", server);
  w.string_array("StartJoinAddrsLAN", cfg.start_join);
  w.string_array("StartJoinAddrsWAN", cfg.start_join_wan);
  write_flat_map(w, "TaggedAddresses", id.tagged_addresses);
  w.field("Version", kConsulCompatVersion);
  w.field("VersionPrerelease", "");
  w.end_object();
}

// Servers that are alive in this agent's datacenter, as a client counts
// them for Stats.consul.known_servers.
size_t known_servers(const Agent& agent) {
  const Membership& m = agent.membership();
  if (!m.enabled()) return agent.is_server() ? 1 : 0;
  size_t n = 0;
  for (const auto& member : m.members()) {
    auto role = member.tags.find("role");
    auto dc = member.tags.find("dc");
    n += member.status == gossip::MemberStatus::alive && role != member.tags.end() &&
         role->second == "consul" && dc != member.tags.end() &&
         dc->second == agent.config().datacenter;
  }
  return n;
}

// A client agent's Stats.rpc (cairn's own): the server it forwards to, the
// last contact, whether its catalog push is done and its local view current.
void write_client_rpc_stats(JsonWriter& w, const Agent& agent) {
  const forward::Forwarder* f = agent.forwarder();
  if (f == nullptr) return;
  const forward::ServerEntry* server = f->current_server();
  uint64_t now = uv_now(agent.loop());
  w.key("rpc");
  w.begin_object();
  w.field("server", server ? server->name : "");
  w.field("server_addr", server ? server->address + ":" + std::to_string(server->port) : "");
  w.field("last_contact_ms",
          f->last_contact_ms() ? std::to_string(now - f->last_contact_ms()) : std::string());
  w.field("forwarded", std::to_string(f->forwarded()));
  w.field("failovers", std::to_string(f->failovers()));
  const forward::CatalogPush* push = agent.catalog_push();
  w.field("catalog_in_sync", push && push->in_sync() ? "true" : "false");
  // Anti-entropy calls sent: full syncs, and pushes of changed check results.
  w.field("catalog_full_pushes", std::to_string(push ? push->full_pushes() : 0));
  w.field("catalog_check_pushes", std::to_string(push ? push->check_pushes() : 0));
  const forward::CatalogMirror* mirror = agent.catalog_mirror();
  w.field("local_view", mirror && mirror->current() ? "current" : "stale");
  // The services the view streams, and how it caught up after each stream:
  // whole snapshots, and resumes that sent only what changed meanwhile.
  w.field("view_services", std::to_string(mirror ? mirror->held_services() : 0));
  w.field("view_nodes", std::to_string(mirror ? mirror->held_nodes() : 0));
  w.field("view_subscriptions", std::to_string(mirror ? mirror->subscriptions() : 0));
  w.field("view_snapshots", std::to_string(mirror ? mirror->snapshots() : 0));
  w.field("view_resumes", std::to_string(mirror ? mirror->resumes() : 0));
  w.field("view_expired", std::to_string(mirror ? mirror->expired() : 0));
  w.end_object();
}

// Stats.consul as Consul's servers and clients report it, and for servers
// over etcd Stats.etcd: cairn's own view of its member (what `cairn status`
// shows, including why a server that has not formed a cluster is waiting).
void write_consul_stats(JsonWriter& w, const Agent& agent) {
  w.key("consul");
  w.begin_object();
  w.field("acl", "disabled");  // ACLs are not enforced yet
  if (!agent.is_server()) {
    w.field("known_servers", std::to_string(known_servers(agent)));
    w.field("server", "false");
    w.end_object();
    write_client_rpc_stats(w, agent);
    return;
  }
  const server::ReplicatedState* rs = agent.replicated();
  bool is_leader = rs ? rs->is_leader() : true;
  const config::Config& cfg = agent.config();
  w.field("bootstrap", cfg.dev || cfg.bootstrap_expect == 1 ? "true" : "false");
  w.field("known_datacenters", std::to_string(agent.membership().datacenters().size()));
  w.field("leader", is_leader ? "true" : "false");
  w.field("leader_addr", agent.leader_address());
  w.field("server", "true");
  w.end_object();
  if (rs == nullptr) return;
  w.key("etcd");
  w.begin_object();
  const char* member = "waiting";
  if (rs->ready())
    member = "running";
  else if (rs->member_running())
    member = "starting";
  w.field("member", member);
  w.field("waiting_for", rs->waiting_for());
  w.field("alarm", rs->store_full() ? "NOSPACE" : "");
  w.field("applied_revision", std::to_string(rs->applied_revision()));
  w.field("last_contact_ms", std::to_string(rs->last_contact_age_ms()));
  w.field("peer_url", rs->peer_url());
  w.end_object();
}

void write_agent_stats(JsonWriter& w, const Agent& agent) {
  w.key("agent");
  w.begin_object();
  // Consul's check monitors are its script checks; check_ttls its TTL checks.
  size_t scripts = 0, ttls = 0;
  for (const auto& entry : agent.local().checks()) {
    scripts += entry.second.check.type == "script";
    ttls += entry.second.check.type == "ttl";
  }
  w.field("check_monitors", std::to_string(scripts));
  w.field("check_ttls", std::to_string(ttls));
  w.field("checks", std::to_string(agent.local().checks().size()));
  w.field("services", std::to_string(agent.local().services().size()));
  w.end_object();
}

// The agent's own LAN Vivaldi coordinate, as Consul serves it. With gossip
// off there are no probes to move it: it stays where every agent starts.
void write_self_coord(JsonWriter& w, const Agent& agent) {
  w.key("Coord");
  const gossip::GossipAgent* lan = agent.membership().lan();
  const gossip::Coordinate* c = lan ? lan->local_coordinate() : nullptr;
  if (c)
    c->write_json(w);
  else
    gossip::Coordinate::fresh(gossip::CoordinateConfig{}).write_json(w);
}

// This agent's gossip member: the very entry /v1/agent/members lists for it.
void write_self_gossip_member(JsonWriter& w, const Agent& agent) {
  w.key("Member");
  if (const gossip::GossipAgent* lan = agent.membership().lan())
    write_member(w, lan->local_member());
  else
    write_self_member(w, agent);
}

void agent_self(Agent& agent, const ExchangePtr& ex, const std::string&) {
  const auto& cfg = agent.config();
  std::string body;
  JsonWriter w(body, ex->request.has_param("pretty"));
  w.begin_object();
  w.key("Config");
  w.begin_object();
  w.field("Datacenter", cfg.datacenter);
  w.field("PrimaryDatacenter", config::primary_datacenter(cfg));
  w.field("NodeName", agent.identity().name);
  w.field("NodeID", agent.identity().id);
  w.field("Revision", CAIRN_REVISION);
  w.field("Server", agent.is_server());
  w.field("Version", kConsulCompatVersion);
  w.field("BuildDate", "");
  w.field("CairnVersion", CAIRN_VERSION);
  w.end_object();
  write_debug_config(w, agent);
  write_self_coord(w, agent);
  write_self_gossip_member(w, agent);
  w.key("Stats");
  w.begin_object();
  write_agent_stats(w, agent);
  write_consul_stats(w, agent);
  w.key("build");
  w.begin_object();
  w.field("version", kConsulCompatVersion);
  w.field("revision", CAIRN_REVISION);
  w.field("cairn", CAIRN_VERSION);
  w.end_object();
  w.end_object();
  write_flat_map(w, "Meta", agent.identity().meta);
  w.end_object();
  respond_json(ex, std::move(body));
}

}  // namespace

void write_self_member(JsonWriter& w, const Agent& agent) {
  const auto& cfg = agent.config();
  const auto& id = agent.identity();
  w.begin_object();
  w.field("Name", id.name);
  w.field("Addr", id.address);
  w.field("Port", cfg.ports.serf_lan);
  w.key("Tags");
  w.begin_object();
  for (const auto& [k, v] : lan_tags(cfg, id, agent.is_server())) w.field(k, v);
  w.end_object();
  w.field("Status", 1);
  w.field("ProtocolMin", 1);
  w.field("ProtocolMax", 5);
  w.field("ProtocolCur", 2);
  w.field("DelegateMin", 2);
  w.field("DelegateMax", 5);
  w.field("DelegateCur", 4);
  w.end_object();
}

void add_agent_self_routes(Router& r, Agent& agent) {
  r.add("GET", "/v1/agent/self", bind_endpoint(agent, agent_self));
}

}  // namespace cairn::http_api
