// /v1/status (leader and peers) and /v1/operator/raft (the servers' consensus).
#include "agent/agent.h"
#include "agent/http/endpoints.h"
#include "agent/http/reply.h"

namespace cairn::http_api {

namespace {

void status_leader(Agent& agent, const ExchangePtr& ex, const std::string&) {
  std::string body;
  JsonWriter w(body);
  w.string(agent.leader_address());
  respond_json(ex, std::move(body));
}

void status_peers(Agent& agent, const ExchangePtr& ex, const std::string&) {
  server::ReplicatedState* rs = agent.replicated();
  if (rs == nullptr) {
    std::string body;
    JsonWriter w(body);
    w.begin_array();
    if (!agent.leader_address().empty()) w.string(agent.leader_address());
    w.end_array();
    respond_json(ex, std::move(body));
    return;
  }
  rs->raft_peers([ex](bool ok, const std::string& error, std::vector<server::RaftPeer> peers) {
    if (!ok) {
      respond_error(ex, 500, error);
      return;
    }
    std::string body;
    JsonWriter w(body);
    w.begin_array();
    for (const auto& p : peers)
      if (p.voter) w.string(p.address);
    w.end_array();
    respond_json(ex, std::move(body));
  });
}

// /v1/operator/raft/configuration: Consul's fields; -dev is its own only server.
void write_raft_configuration(const ExchangePtr& ex, const std::vector<server::RaftPeer>& peers,
                              uint64_t index) {
  std::string body;
  JsonWriter w(body, ex->request.has_param("pretty"));
  w.begin_object();
  w.key("Servers");
  w.begin_array();
  for (const auto& p : peers) {
    w.begin_object();
    w.field("ID", p.id);
    w.field("Node", p.node);
    w.field("Address", p.address);
    w.field("Leader", p.leader);
    w.field("ProtocolVersion", "3");
    w.field("Voter", p.voter);
    w.field("LastIndex", index);
    w.end_object();
  }
  w.end_array();
  w.field("Index", index);
  w.end_object();
  respond_json(ex, std::move(body));
}

void raft_configuration(Agent& agent, const ExchangePtr& ex, const std::string&) {
  server::ReplicatedState* rs = agent.replicated();
  if (rs == nullptr) {
    if (!agent.is_server()) {
      respond_error(ex, 500, "No known Consul servers");
      return;
    }
    server::RaftPeer self{agent.identity().id, agent.identity().name, agent.leader_address(),
                          true, true};
    write_raft_configuration(ex, {self}, agent.store().index());
    return;
  }
  rs->raft_peers([ex, rs](bool ok, const std::string& error, std::vector<server::RaftPeer> peers) {
    if (!ok) {
      respond_error(ex, 500, error);
      return;
    }
    write_raft_configuration(ex, peers, rs->applied_revision());
  });
}

void raft_remove_peer(Agent& agent, const ExchangePtr& ex, const std::string&) {
  const std::string* id = ex->request.param("id");
  const std::string* address = ex->request.param("address");
  if ((id == nullptr || id->empty()) && (address == nullptr || address->empty())) {
    respond_error(ex, 400, "Must specify either ?id with the server's ID or ?address with IP:port of peer to remove");
    return;
  }
  server::ReplicatedState* rs = agent.replicated();
  if (rs == nullptr) {
    respond_error(ex, 500, "cannot remove this server's own peer in -dev");
    return;
  }
  rs->remove_peer(id && !id->empty() ? *id : *address, [ex](bool ok, const std::string& error) {
    if (!ok) {
      respond_error(ex, 500, error);
      return;
    }
    respond_empty(ex);
  });
}

}  // namespace

void add_status_routes(Router& r, Agent& agent) {
  r.add("GET", "/v1/status/leader", bind_endpoint(agent, status_leader));
  r.add("GET", "/v1/status/peers", bind_endpoint(agent, status_peers));
  r.add("GET", "/v1/operator/raft/configuration", bind_endpoint(agent, raft_configuration));
  r.add("DELETE", "/v1/operator/raft/peer", bind_endpoint(agent, raft_remove_peer));
}

}  // namespace cairn::http_api
