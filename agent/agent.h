// The agent: the composition root that owns the loop's long-lived parts
// (config, the catalog store and its writer, the local services and checks,
// membership, DNS, metrics, the HTTP listener) and wires them together. The
// operations on this host's services and checks belong to LocalAgent
// (local_agent()); the Agent keeps reload, leave and the server-mode wiring.
// Everything runs on the one loop it is given.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/config/flags.h"
#include "agent/local/anti_entropy.h"
#include "agent/local/local_state.h"
#include "agent/local_agent.h"
#include "agent/op_result.h"
#include "agent/server/catalog_writer.h"
#include "agent/server/replicated_state.h"
#include "agent/server/session_timers.h"
#include "agent/server/tombstone_gc.h"
#include "agent/state/store.h"
#include "common/http/server.h"
#include "common/metrics.h"
#include "common/statsd_sink.h"
#include "common/uv_handle.h"

namespace cairn {

namespace http_api {
class ReadCache;
}
class Membership;
namespace dns {
class DnsServer;
class DnsLoops;
}

// The HTTP server's limits from the limits and http_config blocks.
http::ServerLimits http_server_limits(const config::Config& cfg);

namespace forward {
class Forwarder;
class CatalogPush;
class CatalogMirror;
class CatalogPublisher;
class RemoteDatacenters;
class DatacenterRows;
struct DatacenterWays;
}  // namespace forward
namespace rpc {
class Server;
}  // namespace rpc

class Agent {
 public:
  Agent(uv_loop_t* loop, config::AgentFlags flags, config::Config cfg);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Builds the HTTP API's request handler once the local state is loaded
  // (run_agent.cc supplies http_api::Api, which keeps agent.cc free of agent/http/api.h).
  using HttpHandlerFactory = std::function<http::Handler(Agent&)>;

  // Restores persisted state, loads config definitions, starts checks and the
  // HTTP listener. Returns "" or an error that should stop the process.
  std::string start(const HttpHandlerFactory& make_http_handler);
  // Stops listeners and checks, flushes persistence. The loop then drains.
  void shutdown();

  uv_loop_t* loop() const { return loop_; }
  const config::Config& config() const { return cfg_; }
  const local::NodeIdentity& identity() const { return identity_; }
  const state::Store& store() const { return store_; }
  server::CatalogWriter& writer() { return *writer_; }
  // Server mode over etcd; null in -dev and on client agents.
  server::ReplicatedState* replicated() { return replicated_.get(); }
  const server::ReplicatedState* replicated() const { return replicated_.get(); }
  server::SessionTimers& session_timers() { return session_timers_; }
  // This host's services and checks and the operations on them.
  LocalAgent& local_agent() { return local_agent_; }
  const LocalAgent& local_agent() const { return local_agent_; }
  const local::LocalState& local() const { return local_agent_.state(); }
  MetricsRegistry& metrics() { return metrics_; }
  // Everything /v1/agent/metrics and the statsd sinks report: the registry
  // with its gauges brought up to date, the HTTP server's counts, the regex
  // refusals, gossip's stream counts and the extra DNS loops' counts.
  void collect_metrics(MetricsRegistry& into);
  // Copies the HTTP server's counts (limits that fired, timeouts) into metrics().
  void refresh_http_metrics();
  // Adds what the extra DNS loops counted (dns_config.udp_loops).
  void add_dns_loop_metrics(MetricsRegistry& into) const;
  http_api::ReadCache& read_cache() { return *read_cache_; }
  Membership& membership() { return *membership_; }
  const Membership& membership() const { return *membership_; }
  // Leaves the gossip pool gracefully (others see "left"), then runs done.
  void leave(std::function<void()> done);
  bool is_server() const { return cfg_.server || cfg_.dev; }
  // Client agents: sends the API's datacenter requests to a server; null on
  // servers and -dev, which answer them themselves.
  forward::Forwarder* forwarder() { return forwarder_.get(); }
  const forward::Forwarder* forwarder() const { return forwarder_.get(); }
  // Where a request for another datacenter goes: on a client agent its
  // server (which passes it on), on a server that datacenter's servers from
  // the WAN pool. Null when there is no path to datacenter.
  forward::Forwarder* route_to_datacenter(std::string_view datacenter);
  // Other datacenters to try for a prepared query's failover, in Consul's
  // order: the NearestN nearest by WAN round trip, then the listed ones
  // that are known and not yet picked.
  std::vector<std::string> failover_datacenters(int nearest_n,
                                                const std::vector<std::string>& listed) const;
  const forward::CatalogPush* catalog_push() const { return catalog_push_.get(); }
  const forward::CatalogMirror* catalog_mirror() const { return catalog_mirror_.get(); }
  forward::CatalogMirror* catalog_mirror() { return catalog_mirror_.get(); }
  std::string leader_address() const;
  uint64_t uptime_ms() const;
  int http_port() const;
  int dns_port() const;

  // Re-reads the config files; applies only what changed. "" or the error.
  std::string reload();
  // Asks the process to shut down gracefully (PUT /v1/agent/leave).
  void set_stop_handler(std::function<void()> h) { stop_handler_ = std::move(h); }
  void request_stop() {
    if (stop_handler_) stop_handler_();
  }

 private:
  // Server mode: the replicated state and what it drives here.
  std::unique_ptr<server::ReplicatedState> make_replicated_state();
  void on_replicated_ready();
  void on_leadership_changed(bool gained);
  void publish_server_tags();
  // Frees this Agent's copy of the service and check definitions once applied.
  void release_config_definitions();
  std::string start_metric_sinks();
  // Server, RPC and consensus figures into metrics_ (collect_metrics).
  void add_server_metrics();
  // Servers and -dev: the RPC listener; client agents: forwarding and the
  // push of their local state to the servers.
  std::string start_rpc();
  void listen_to_store();
  void update_rpc_servers();
  forward::DatacenterWays datacenter_ways();

  uv_loop_t* loop_;
  config::AgentFlags flags_;
  config::Config cfg_;
  local::NodeIdentity identity_;
  state::Store store_;
  // Exactly one of these writes the store: -dev and clients write it directly,
  // servers commit to etcd and their watch cache applies what etcd holds.
  std::unique_ptr<server::DevWriter> dev_writer_;
  std::unique_ptr<server::MirrorWriter> mirror_writer_;  // client agents
  std::unique_ptr<server::ReplicatedState> replicated_;
  server::CatalogWriter* writer_;
  server::SessionTimers session_timers_;
  server::TombstoneGC tombstone_gc_;
  LocalAgent local_agent_;
  MetricsRegistry metrics_;
  // consul.raft.state.leader: times this server became the leader.
  Counter& raft_leader_ = metrics_.counter("consul.raft.state.leader",
                                           "Times this server became the datacenter's leader");
  std::unique_ptr<http::Server> http_;
  std::unique_ptr<dns::DnsServer> dns_;  // after store_ and metrics_, which it reads
  std::unique_ptr<dns::DnsLoops> dns_loops_;  // extra UDP loops with catalog replicas
  std::unique_ptr<http_api::ReadCache> read_cache_;
  std::unique_ptr<Membership> membership_;
  http::Handler http_handler_;
  std::unique_ptr<rpc::Server> rpc_server_;
  std::unique_ptr<forward::Forwarder> forwarder_;
  std::unique_ptr<forward::CatalogPush> catalog_push_;
  std::unique_ptr<forward::CatalogMirror> catalog_mirror_;  // client agents
  std::unique_ptr<forward::CatalogPublisher> catalog_publisher_;  // servers and -dev
  std::unique_ptr<forward::RemoteDatacenters> remote_datacenters_;  // servers in a WAN pool
  std::unique_ptr<forward::DatacenterRows> datacenter_rows_;  // DNS names of other datacenters
  // telemetry.statsd_address and dogstatsd_addr.
  std::vector<std::unique_ptr<StatsdSink>> metric_sinks_;
  uint64_t started_ms_ = 0;
  std::function<void()> stop_handler_;
};

}  // namespace cairn
