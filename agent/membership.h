// The agent's gossip membership: Serf over memberlist on the agent's loop
// (agent/gossip), with Consul's tags, -join/-retry-join, graceful leave, user
// events kept for /v1/event/list, and — on a server, which in -dev is the
// leader — the catalog reconciled with membership: every alive member's node
// registered with a passing serfHealth check, failed ones critical, members
// that left removed. Servers also keep the WAN pool of every datacenter's
// servers, which is how they learn the other datacenters.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/gossip/gossip_agent.h"
#include "agent/local/anti_entropy.h"
#include "agent/serf_event_counts.h"
#include "agent/server/bootstrap_plan.h"
#include "agent/server/catalog_writer.h"
#include "common/metrics.h"
#include "common/uv_handle.h"

namespace cairn {

// Consul's user event as /v1/event/fire and /v1/event/list show it.
struct UserEvent {
  std::string id;
  std::string name;
  std::string payload;
  std::string node_filter, service_filter, tag_filter;
  int version = 1;
  uint64_t ltime = 0;
};

// Consul's LAN gossip tags for this agent, as /v1/agent/members and the
// Member of /v1/agent/self show them (servers add etcd's later).
gossip::Tags lan_tags(const config::Config& cfg, const local::NodeIdentity& self, bool is_server);

class Membership {
 public:
  // Filters an incoming user event against this agent (node name, local services and tags).
  using EventFilter = std::function<bool(const UserEvent&)>;

  Membership(uv_loop_t* loop, const config::Config& cfg, const local::NodeIdentity& self,
             server::CatalogWriter& writer, bool is_server, EventFilter filter);
  ~Membership();

  // Binds the LAN port and starts gossiping; joins -join addresses and starts
  // -retry-join. Returns "" or an error that should stop the agent.
  // A server also binds the WAN port (serf_wan) and gossips there with other
  // datacenters' servers as "<node>.<dc>".
  std::string start();
  bool enabled() const { return lan_.gossip != nullptr; }
  using JoinDone = std::function<void(int contacted, std::string error)>;
  void join(const std::vector<std::string>& addrs, JoinDone done);
  // Consul's "Must be a server to join WAN cluster" when there is no WAN pool.
  void join_wan(const std::vector<std::string>& addrs, JoinDone done);
  // Leaves the WAN pool (if any), then the LAN pool, as Consul servers do.
  void leave(std::function<void()> done);
  bool force_leave(const std::string& node, bool wan = false);
  void shutdown();

  std::vector<gossip::Member> members() const;
  gossip::GossipAgent* lan() const { return lan_.gossip.get(); }
  // The WAN pool; null on clients and with serf_wan disabled.
  std::vector<gossip::Member> wan_members() const;
  gossip::GossipAgent* wan() const { return wan_.gossip.get(); }
  // Datacenters known from the WAN pool's alive servers, this one first,
  // then by the median estimated RTT to their servers, as Consul lists them.
  std::vector<std::string> datacenters() const;

  // Network coordinates, as the catalog's coordinate table holds them: those
  // set through /v1/coordinate/update, else the LAN gossip's own Vivaldi
  // estimate (which Consul agents would send to the servers).
  bool coordinate_of(const std::string& node, gossip::Coordinate& out) const;
  // Sets node's coordinate and forgets those of nodes `known` no longer
  // accepts (deregistered), so the table stays as small as the catalog.
  void update_coordinate(const std::string& node, gossip::Coordinate c,
                         const std::function<bool(const std::string&)>& known);
  // Every node with a coordinate, by name.
  std::map<std::string, gossip::Coordinate> coordinates() const;

  // Server mode over etcd. Only the cairn leader reconciles membership into
  // the catalog: is_leader says whether this server is it (unset: always, as
  // in -dev). reconcile_all() runs the full pass a new leader owes.
  void set_leader_check(std::function<bool()> is_leader) { is_leader_ = std::move(is_leader); }
  void reconcile_all();
  // Runs after every change gossip reports about a member (server bootstrap).
  void set_member_listener(std::function<void()> fn) { member_listener_ = std::move(fn); }
  // Serf queries named cairn:* in the LAN pool (the server join request):
  // handler(event) may answer with respond(). ask() issues one.
  using QueryHandler = std::function<void(const gossip::SerfEvent&)>;
  void set_query_handler(QueryHandler h) { query_handler_ = std::move(h); }
  bool respond(uint32_t query_id, std::string_view payload);
  bool ask(std::string_view name, std::string_view payload,
           std::function<void(std::string_view from, std::string_view payload)> on_answer,
           std::function<void()> on_done);
  // Adds or replaces LAN tags of this member (etcd_peer, etcd) and gossips them.
  void set_lan_tags(const gossip::Tags& extra);
  // The alive and failed servers of this agent's LAN pool, other than itself,
  // as the bootstrap plan reads them.
  std::vector<server::SeenServer> seen_servers() const;
  // The same for the WAN pool: every datacenter's servers but this one.
  std::vector<server::SeenServer> wan_servers() const;

  // Adds each pool's gossip counters to into under Consul's names, labelled
  // network="lan" or "wan": Serf's member events (consul.serf.member.*),
  // memberlist's traffic, probes and health score (consul.memberlist.*),
  // inbound TCP streams accepted, refused by the limits, timed out; and the
  // LAN pool's alive agents by role (consul.members.clients/servers).
  void add_metrics_to(MetricsRegistry& into) const;

  // User events.
  std::string fire(UserEvent ev);  // "" or an error
  const std::deque<UserEvent>& events() const { return events_; }
  // Runs once at the next event (blocking /v1/event/list).
  uint64_t on_next_event(std::function<void()> fn);
  void cancel_wait(uint64_t id);

 private:
  void on_event(const gossip::SerfEvent& ev);
  void record(UserEvent ev);
  void reconcile(const gossip::Member& m, bool removed);
  void on_wan_event(const gossip::SerfEvent& ev);

  // One gossip pool (LAN or WAN): its settings from the config, the gossip
  // agent once started, and its -retry-join loop.
  struct Pool {
    Pool(uv_loop_t* loop, const char* name, int port, const config::GossipTuning& tuning,
         const std::vector<std::string>& start_join, const std::vector<std::string>& retry_join,
         Nanos retry_interval)
        : name(name), port(port), tuning(tuning), start_join(start_join), retry_join(retry_join),
          retry_interval(retry_interval), retry_timer(loop) {}
    const char* name;
    int port;
    const config::GossipTuning& tuning;
    const std::vector<std::string>& start_join;
    const std::vector<std::string>& retry_join;
    Nanos retry_interval;
    std::unique_ptr<gossip::GossipAgent> gossip;
    Timer retry_timer;
    int retry_attempts = 0;
    SerfEventCounter events;  // consul.serf.member.*
  };
  // Binds the pool with what both pools share (addresses, keys, tuning),
  // starts it with handler and begins its -join and -retry-join.
  std::string start_pool(Pool& pool, gossip::GossipConfig g, gossip::GossipAgent::EventFn handler);
  void retry_join_tick(Pool& pool);
  static void join_pool(Pool& pool, const std::vector<std::string>& addrs, JoinDone done,
                        const char* missing);

  uv_loop_t* loop_;
  const config::Config& cfg_;
  local::NodeIdentity self_;
  server::CatalogWriter& writer_;
  bool is_server_;
  EventFilter filter_;
  Pool lan_;
  Pool wan_;
  std::deque<UserEvent> events_;
  std::map<std::string, gossip::Coordinate> updated_coordinates_;
  uint64_t next_waiter_ = 1;
  std::vector<std::pair<uint64_t, std::function<void()>>> waiters_;
  bool left_ = false;
  std::function<bool()> is_leader_;
  std::function<void()> member_listener_;
  QueryHandler query_handler_;
};

// Consul's user-event wire form inside a Serf user event (name "consul:event:<name>").
std::string encode_user_event(const UserEvent& ev);
bool decode_user_event(const std::string& payload, UserEvent& out);

}  // namespace cairn
