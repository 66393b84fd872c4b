// The gossip layer as the agent embeds it: one gossip pool (Consul's LAN
// pool on 8301, or the WAN pool on 8302) running Serf over memberlist on the
// agent's libuv loop, with real UDP and TCP sockets.
//
//   GossipConfig cfg;
//   cfg.node_name = "web-1";
//   cfg.bind = {ip, 8301};
//   cfg.tags = {{"role", "node"}, {"dc", "dc1"}, {"id", node_id}, {"vsn", "2"}, ...};
//   cfg.keys = {encrypt_b64};            // -encrypt; empty: plaintext
//   std::string err;
//   auto lan = GossipAgent::create(loop, cfg, err);       // nullptr + err on failure
//   lan->set_event_handler([](const SerfEvent& ev) {...}); // joins, failures, leaves,
//                                                          // updates, reaps, user events, queries
//   lan->start();                          // declares us alive (our own join event first)
//   lan->join({"10.0.0.5:8301"}, [](int n, const std::string& err) {...});
//   for (const Member& m : lan->members()) ...;  // name, addr, tags, status (Consul's
//                                                // numbers: MemberStatus), vsn
//   lan->user_event("consul:event:deploy", payload, false, err);
//   lan->local_coordinate();                      // Vivaldi, for /v1/coordinate
//   lan->leave([](bool ok) {...});                // graceful: others see "left"
//
// Everything runs on the loop thread; callbacks are invoked from it. Destroy
// the agent on the loop thread; run the loop once more so handles close.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/gossip/serf.h"
#include "agent/gossip/uv_transport.h"

namespace cairn::gossip {

class UvClock;

struct GossipConfig {
  std::string node_name;
  Address bind;       // UDP and TCP; port 0 picks a free one
  Address advertise;  // defaults to bind (with the bound port)
  // Timing profile: "lan" (Consul LAN), "wan" (Consul WAN) or "local".
  std::string profile = "lan";
  Tags tags;
  std::vector<std::string> keys;  // base64 AES keys, primary first; empty: no encryption
  std::string label;
  // false runs plain memberlist without Serf (the test peer's default mode,
  // for comparison with memberlist-peer); the agent always uses Serf.
  bool serf = true;
  // Applied after the profile: anything in MemberlistConfig / SerfConfig.
  std::function<void(MemberlistConfig&)> tune_memberlist;
  std::function<void(SerfConfig&)> tune_serf;
};

class GossipAgent {
 public:
  using EventFn = std::function<void(const SerfEvent&)>;

  static std::unique_ptr<GossipAgent> create(uv_loop_t* loop, GossipConfig cfg, std::string& error);
  ~GossipAgent();
  GossipAgent(const GossipAgent&) = delete;
  GossipAgent& operator=(const GossipAgent&) = delete;

  void set_event_handler(EventFn fn);
  // Starts gossiping (after the handlers are set: our own join is the first event).
  void start();
  // Debug hooks: our probe of `node` failed; our suspicion timer fired.
  void set_debug_handlers(std::function<void(std::string_view)> probe_failed,
                          std::function<void(std::string_view, int)> suspect_timeout);
  // "host", "host:port" or "name/host:port"; the pool's port when absent.
  void join(const std::vector<std::string>& addrs, Memberlist::JoinDone done);
  void leave(Memberlist::Done done);
  void shutdown();

  std::vector<Member> members() const;
  Member local_member() const;
  bool user_event(std::string_view name, std::string_view payload, bool coalesce, std::string& err);
  bool set_tags(Tags tags, std::string& err);
  bool respond(uint32_t query_id, std::string_view payload, std::string& err);
  // A Serf query (see Serf::query); false when gossip is not running.
  bool query(std::string_view name, std::string_view payload,
             std::function<void(std::string_view from, std::string_view payload)> on_response,
             std::function<void()> on_done);
  bool force_leave(std::string_view node);
  const Coordinate* local_coordinate() const;
  bool coordinate_of(std::string_view node, Coordinate& out) const;
  Keyring* keyring() const { return keyring_.get(); }
  int health_score() const;
  Address address() const;
  const MemberlistConfig& memberlist_config() const;
  const MemberlistStats& stats() const;
  // Inbound TCP streams: accepted, refused by the limits, timed out.
  const StreamStats& stream_stats() const;
  Memberlist& memberlist();

 private:
  GossipAgent() = default;
  struct PlainDelegate;
  GossipConfig cfg_;
  std::shared_ptr<Keyring> keyring_;
  std::unique_ptr<UvClock> clock_;
  std::unique_ptr<UvTransport> transport_;
  std::unique_ptr<Serf> serf_;
  std::unique_ptr<PlainDelegate> plain_delegate_;
  std::unique_ptr<Memberlist> plain_;
  EventFn on_event_;
};

}  // namespace cairn::gossip
