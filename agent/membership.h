// The agent's LAN gossip membership: Serf over memberlist on the agent's loop
// (agent/gossip), with Consul's tags, -join/-retry-join, graceful leave, user
// events kept for /v1/event/list, and — on a server, which in -dev is the
// leader — the catalog reconciled with membership: every alive member's node
// registered with a passing serfHealth check, failed ones critical, members
// that left removed.
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
#include "agent/server/catalog_writer.h"
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

class Membership {
 public:
  // Filters an incoming user event against this agent (node name, local services and tags).
  using EventFilter = std::function<bool(const UserEvent&)>;

  Membership(uv_loop_t* loop, const config::Config& cfg, const local::NodeIdentity& self,
             server::CatalogWriter& writer, bool is_server, EventFilter filter);
  ~Membership();

  // Binds the LAN port and starts gossiping; joins -join addresses and starts
  // -retry-join. Returns "" or an error that should stop the agent.
  std::string start();
  bool enabled() const { return lan_ != nullptr; }
  void join(const std::vector<std::string>& addrs, std::function<void(int, std::string)> done);
  void leave(std::function<void()> done);
  bool force_leave(const std::string& node);
  void shutdown();

  std::vector<gossip::Member> members() const;
  gossip::GossipAgent* lan() const { return lan_.get(); }

  // Network coordinates, as the catalog's coordinate table holds them: those
  // set through /v1/coordinate/update, else the LAN gossip's own Vivaldi
  // estimate (which Consul agents would send to the servers).
  bool coordinate_of(const std::string& node, gossip::Coordinate& out) const;
  void update_coordinate(const std::string& node, gossip::Coordinate c);
  // Every node with a coordinate, by name.
  std::map<std::string, gossip::Coordinate> coordinates() const;

  // User events.
  std::string fire(UserEvent ev);  // "" or an error
  const std::deque<UserEvent>& events() const { return events_; }
  uint64_t events_index() const { return events_index_; }
  // Runs once at the next event (blocking /v1/event/list).
  uint64_t on_next_event(std::function<void()> fn);
  void cancel_wait(uint64_t id);

 private:
  void on_event(const gossip::SerfEvent& ev);
  void record(UserEvent ev);
  void reconcile(const gossip::Member& m, bool removed);
  void retry_join_tick();

  uv_loop_t* loop_;
  const config::Config& cfg_;
  local::NodeIdentity self_;
  server::CatalogWriter& writer_;
  bool is_server_;
  EventFilter filter_;
  std::unique_ptr<gossip::GossipAgent> lan_;
  Timer retry_timer_;
  int retry_attempts_ = 0;
  std::deque<UserEvent> events_;
  std::map<std::string, gossip::Coordinate> updated_coordinates_;
  uint64_t events_index_ = 0;
  uint64_t next_waiter_ = 1;
  std::vector<std::pair<uint64_t, std::function<void()>>> waiters_;
  bool left_ = false;
};

// Consul's user-event wire form inside a Serf user event (name "consul:event:<name>").
std::string encode_user_event(const UserEvent& ev);
bool decode_user_event(const std::string& payload, UserEvent& out);

}  // namespace cairn
