#include "agent/agent.h"

#include "agent/forward/catalog_push.h"
#include "agent/forward/catalog_mirror.h"
#include "agent/forward/catalog_publisher.h"
#include "agent/forward/datacenter_rows.h"
#include "agent/forward/forward_service.h"
#include "agent/forward/forwarder.h"
#include "agent/forward/node_sync.h"
#include "agent/forward/query_failover.h"
#include "agent/forward/remote_datacenters.h"
#include "agent/rpc/server.h"

#include <malloc.h>

#include <cstdlib>
#include <sstream>
#include <string_view>

#include "agent/config/identity.h"
#include "agent/config/listen_addresses.h"
#include "agent/consul_version.h"
#include "agent/dns/dns_loops.h"
#include "agent/dns/dns_server.h"
#include "agent/http/read_cache.h"
#include "agent/membership.h"
#include "agent/server/etcd_writer.h"
#include "agent/server/leader.h"
#include "agent/telemetry.h"
#include "agent/unix_socket_owner.h"
#include "common/log.h"
#include "common/regex.h"

namespace cairn {

namespace {

// Rendered read answers kept for reuse (see read_cache.h); small next to the
// 30 MB an agent with 1,000 services should stay under.
constexpr size_t kReadCacheEntries = 256;
constexpr size_t kReadCacheBytes = 8 * 1024 * 1024;
// Consul's tombstone_ttl and tombstone_ttl_granularity.
constexpr Nanos kTombstoneTTL = 15 * kMinute;
constexpr Nanos kTombstoneGranularity = 30 * kSecond;
// The index an agent's own store starts at, before its first write.
constexpr uint64_t kBootstrapIndex = 1;

}  // namespace

Agent::Agent(uv_loop_t* loop, config::AgentFlags flags, config::Config cfg)
    : loop_(loop),
      flags_(std::move(flags)),
      cfg_(std::move(cfg)),
      dev_writer_(std::make_unique<server::DevWriter>(store_, [] {
        timespec ts{};
        clock_gettime(CLOCK_REALTIME, &ts);
        return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
      })),
      mirror_writer_(cfg_.server || cfg_.dev ? nullptr : std::make_unique<server::MirrorWriter>()),
      replicated_(make_replicated_state()),
      writer_(replicated_       ? &replicated_->writer()
              : mirror_writer_ ? static_cast<server::CatalogWriter*>(mirror_writer_.get())
                               : static_cast<server::CatalogWriter*>(dev_writer_.get())),
      session_timers_(loop, *writer_),
      tombstone_gc_(loop, *writer_, store_, kTombstoneTTL, kTombstoneGranularity),
      local_agent_(loop, cfg_, identity_, *writer_, store_),
      read_cache_(std::make_unique<http_api::ReadCache>(kReadCacheEntries, kReadCacheBytes)) {
  started_ms_ = uv_now(loop);
  // Consul's Raft log opens with its bootstrap configuration at index 1, so its
  // own start-up writes (the node, serfHealth, the consul service) land above
  // it, and Consul's test SDK waits for /v1/catalog/nodes to report an
  // X-Consul-Index of at least 2 before it uses an agent. An agent numbering
  // its own writes (-dev) takes index 1 the same way; servers use etcd's
  // revisions, already past 1 by then, and clients mirror a server's indexes.
  if (!replicated_ && !mirror_writer_) store_.apply({}, kBootstrapIndex);
  identity_.id = cfg_.node_id;
  identity_.name = cfg_.node_name;
  std::string addr = cfg_.advertise_addr.empty() ? cfg_.bind_addr : cfg_.advertise_addr;
  if (addr == "0.0.0.0" || addr.empty()) addr = "127.0.0.1";
  identity_.address = addr;
  identity_.datacenter = cfg_.datacenter;
  identity_.tagged_addresses = {
      {"lan", addr}, {"lan_ipv4", addr}, {"wan", addr}, {"wan_ipv4", addr}};
  identity_.meta = cfg_.node_meta;
  identity_.meta["consul-network-segment"] = "";
  // Consul records its version in its own node's meta; clients read it there.
  identity_.meta["consul-version"] = kConsulCompatVersion;
}

Agent::~Agent() = default;

namespace {

uint64_t http_timeout_ms(Nanos n) {
  return static_cast<uint64_t>(n / kMillisecond);
}

}  // namespace

http::ServerLimits http_server_limits(const config::Config& cfg) {
  http::ServerLimits l;
  l.max_header_bytes = static_cast<size_t>(cfg.http_config.max_header_bytes);
  l.max_body_bytes = static_cast<size_t>(cfg.http_config.max_body_bytes);
  l.max_connections = static_cast<size_t>(cfg.limits.http_max_conns);
  l.max_connections_per_ip = static_cast<size_t>(cfg.limits.http_max_conns_per_client);
  l.first_byte_timeout_ms = http_timeout_ms(cfg.limits.http_first_byte_timeout);
  l.request_timeout_ms = http_timeout_ms(cfg.limits.http_read_timeout);
  l.idle_timeout_ms = http_timeout_ms(cfg.limits.http_idle_timeout);
  return l;
}

uint64_t Agent::uptime_ms() const { return uv_now(loop_) - started_ms_; }

std::string Agent::leader_address() const {
  if (replicated_) return replicated_->leader_value();
  if (!is_server()) return "";
  return identity_.address + ":" + std::to_string(cfg_.ports.server);
}

// ---------------------------------------------------------------------------
// Server mode over etcd.

std::unique_ptr<server::ReplicatedState> Agent::make_replicated_state() {
  if (!cfg_.server || cfg_.dev) return nullptr;
  std::string addr = cfg_.advertise_addr.empty() ? cfg_.bind_addr : cfg_.advertise_addr;
  if (addr == "0.0.0.0" || addr.empty()) addr = "127.0.0.1";
  server::ReplicatedSettings rs;
  rs.node_name = cfg_.node_name;
  rs.datacenter = cfg_.datacenter;
  rs.data_dir = cfg_.data_dir;
  rs.bind_addr = cfg_.bind_addr == "0.0.0.0" || cfg_.bind_addr.empty() ? addr : cfg_.bind_addr;
  rs.peer_port = cfg_.ports.etcd_peer;
  rs.client_port = cfg_.ports.etcd_client;
  rs.bootstrap_expect = cfg_.bootstrap_expect > 0 ? cfg_.bootstrap_expect : 1;
  rs.leader_value = addr + ":" + std::to_string(cfg_.ports.server);
  rs.server_port = cfg_.ports.server;
  rs.raft_multiplier = cfg_.performance.raft_multiplier;
  rs.quota_backend_bytes = cfg_.etcd.quota_backend_bytes;
  // Tests and benchmarks only: a process kill loses nothing without fsync.
  const char* no_fsync = std::getenv("CAIRN_ETCD_UNSAFE_NO_FSYNC");
  rs.unsafe_no_fsync = no_fsync != nullptr && std::string_view(no_fsync) == "1";
  return std::make_unique<server::ReplicatedState>(
      loop_, store_, std::move(rs),
      server::ReplicatedState::Events{
          [this] { on_replicated_ready(); }, [this] { on_leadership_changed(true); },
          [this] { on_leadership_changed(false); }, [this] { publish_server_tags(); },
          [this](std::string payload, std::function<void(std::string_view)> on_answer,
                 std::function<void()> on_done) {
            return membership_ &&
                   membership_->ask(server::kJoinQuery, payload,
                                    [on_answer](std::string_view, std::string_view reply) {
                                      on_answer(reply);
                                    },
                                    std::move(on_done));
          }});
}

void Agent::on_replicated_ready() {
  publish_server_tags();
  // Writes were refused until now: push this agent's own services and checks.
  local_agent_.sync_catalog();
}

void Agent::on_leadership_changed(bool gained) {
  if (gained) raft_leader_.inc();
  // A new leader owes the catalog a full reconciliation of gossip's view.
  if (gained && membership_) membership_->reconcile_all();
}

void Agent::publish_server_tags() {
  if (!replicated_ || !membership_) return;
  membership_->set_lan_tags({{"etcd_peer", replicated_->peer_url()},
                             {"etcd", replicated_->ready() ? "1" : "0"}});
}

int Agent::http_port() const { return http_ ? http_->bound_port() : 0; }
int Agent::dns_port() const { return dns_ ? dns_->port() : 0; }

void Agent::refresh_http_metrics() {
  if (!http_) return;
  const http::ServerStats& st = http_->stats();
  auto set = [this](const char* name, const char* help, const char* reason, uint64_t value) {
    metrics_.counter(name, help, {{"reason", reason}}).value = value;
  };
  const char* rejected = "consul.http.connections_rejected";
  const char* rejected_help = "HTTP connections refused with 429, by the limit that fired";
  set(rejected, rejected_help, "http_max_conns_per_client", st.rejected_per_ip);
  set(rejected, rejected_help, "http_max_conns", st.rejected_max_connections);
  const char* refused = "consul.http.requests_rejected";
  const char* refused_help =
      "HTTP requests refused before a handler, by the limit or rule that fired";
  set(refused, refused_help, "max_header_bytes", st.header_too_large);
  set(refused, refused_help, "max_body_bytes", st.body_too_large);
  set(refused, refused_help, "transfer_encoding", st.unsupported_transfer_coding);
  set(refused, refused_help, "malformed", st.malformed_requests);
  const char* timeouts = "consul.http.timeouts";
  const char* timeouts_help = "HTTP connections closed by a timeout, by the timeout that fired";
  set(timeouts, timeouts_help, "http_first_byte_timeout", st.first_byte_timeouts);
  set(timeouts, timeouts_help, "http_read_timeout", st.request_timeouts);
  set(timeouts, timeouts_help, "http_idle_timeout", st.idle_timeouts);
  metrics_.counter("consul.http.connections_accepted", "HTTP connections accepted").value =
      st.connections_accepted;
  metrics_.gauge("consul.http.connections_open", "HTTP connections open now")
      .set(static_cast<double>(st.connections_open));
}

void Agent::add_dns_loop_metrics(MetricsRegistry& into) const {
  if (dns_loops_) dns_loops_->add_metrics_to(into);
}

std::string Agent::start(const HttpHandlerFactory& make_http_handler) {
  if (std::string err = local_agent_.load(); !err.empty()) return err;

  http_handler_ = make_http_handler(*this);
  http_ = std::make_unique<http::Server>(loop_, http_server_limits(cfg_), http_handler_);
  http_->set_response_headers(
      {cfg_.http_config.response_headers.begin(), cfg_.http_config.response_headers.end()});
  // addresses.http, else client_addr (Consul's rule); ports.http off turns
  // every HTTP listener off, unix sockets too, as in Consul.
  for (const config::ListenAddress& at : config::http_listen_addresses(cfg_)) {
    if (cfg_.ports.http <= 0) break;
    if (at.is_unix()) {
      std::string e = http_->listen_unix(at.unix_path);
      if (e.empty()) e = apply_unix_socket_owner(at.unix_path, cfg_.unix_sockets);
      if (!e.empty()) return "HTTP API: " + e;
      log::info("http", "listening", {{"address", at.str()}});
    } else {
      std::string e = http_->listen(at.ip, cfg_.ports.http);
      if (!e.empty()) return "HTTP API: " + e;
    }
  }

  // Membership's catalog writes are leader duties: fenced on servers over etcd.
  membership_ = std::make_unique<Membership>(
      loop_, cfg_, identity_, replicated_ ? replicated_->leader_writer() : *writer_, is_server(),
      [this](const UserEvent& ev) { return local_agent_.event_matches_this_agent(ev); });
  if (std::string e = membership_->start(); !e.empty()) return e;
  if (replicated_) {
    membership_->set_leader_check([this] { return replicated_->is_leader(); });
    membership_->set_member_listener(
        [this] { replicated_->servers_seen(membership_->seen_servers()); });
    membership_->set_query_handler([this](const gossip::SerfEvent& ev) {
      if (ev.name != server::kJoinQuery) return;
      replicated_->on_join_request(ev.payload, [this, id = ev.query_id](std::string answer) {
        if (membership_) membership_->respond(id, answer);
      });
    });
    publish_server_tags();
    if (std::string e = replicated_->start(); !e.empty()) return e;
    replicated_->servers_seen(membership_->seen_servers());
  }
  if (std::string e = start_rpc(); !e.empty()) return e;
  if (cfg_.ports.dns > 0) {
    dns_ = std::make_unique<dns::DnsServer>(loop_, store_, metrics_);
    std::string e = dns_->start(cfg_);
    if (!e.empty()) return "DNS: " + e;
    datacenter_rows_ = std::make_unique<forward::DatacenterRows>(store_, datacenter_ways());
    dns_->set_remote(datacenter_rows_.get());
    // A client holds the services it was asked about; a server answers the rest.
    if (catalog_mirror_) dns_->set_view(catalog_mirror_.get());
    if (cfg_.dns_config.udp_loops > 1) {
      dns_loops_ = dns::DnsLoops::start(store_, cfg_, dns_->port(), cfg_.dns_config.udp_loops - 1, e,
                                        loop_, datacenter_rows_.get());
      if (!dns_loops_) return "DNS: " + e;
      if (catalog_mirror_) {
        dns_loops_->set_coverage(catalog_mirror_->held_topics());
        // The names are topics (services, and node topics): using one keeps it.
        dns_loops_->set_used_listener([this](const std::vector<std::string>& topics) {
          if (catalog_mirror_)
            for (const std::string& topic : topics) catalog_mirror_->covers(topic);
        });
      }
    }
  }
  listen_to_store();

  if (std::string e = start_metric_sinks(); !e.empty()) return e;

  // Consul's ae scales its stagger with the LAN pool (LANMembersInAgentPartition).
  local_agent_.start_periodic_sync(
      [this] { return membership_ ? membership_->members().size() : size_t{1}; });
  release_config_definitions();
  return "";
}

namespace {

// Regular expressions refused anywhere in the process (event and Serf query filters,
// prepared-query templates, ?filter=), by reason: the size limits of common/regex.h show up
// here. The counts are process-wide, so they are copied in rather than counted per loop.
void report_regex_refusals(MetricsRegistry& m) {
  static constexpr std::pair<RegexError::Code, const char*> kReasons[] = {
      {RegexError::Code::syntax, "syntax"},
      {RegexError::Code::too_long, "too_long"},
      {RegexError::Code::too_large, "too_large"},
  };
  for (const auto& [code, reason] : kReasons)
    m.counter("cairn.regex.refused", "Regular expressions refused, by reason", {{"reason", reason}})
        .value = Regex::refused(code);
}

}  // namespace

void Agent::collect_metrics(MetricsRegistry& into) {
  refresh_http_metrics();
  metrics_.gauge("consul.agent.services", "Services registered on this agent")
      .set(static_cast<double>(local().services().size()));
  metrics_.gauge("consul.agent.checks", "Checks registered on this agent")
      .set(static_cast<double>(local().checks().size()));
  metrics_.gauge("consul.catalog.index", "Current catalog index")
      .set(static_cast<double>(store_.index()));
  metrics_.gauge("consul.catalog.watches", "Blocking queries waiting on the state store")
      .set(static_cast<double>(store_.watch_count()));
  double uptime_s = static_cast<double>(uptime_ms()) / 1000.0;
  add_runtime_metrics(metrics_, read_process_stats(), uptime_s,
                      static_cast<double>(time(nullptr)) - uptime_s);
  add_server_metrics();
  report_regex_refusals(metrics_);
  into.add_from(metrics_);
  // The extra DNS loops count in registries of their own: add them up.
  add_dns_loop_metrics(into);
  if (membership_) membership_->add_metrics_to(into);
}

// What a server (or -dev) reports of its state, its consensus and the RPCs it
// serves, and what a client agent reports of the RPCs it makes.
void Agent::add_server_metrics() {
  if (forwarder_) {
    metrics_.counter("consul.client.rpc", "RPCs this client agent made to servers").value =
        forwarder_->rpcs();
    metrics_.counter("consul.client.rpc.failed", "RPCs to servers that failed").value =
        forwarder_->rpc_failures();
  }
  if (catalog_mirror_) add_view_metrics(metrics_, *catalog_mirror_);
  if (catalog_publisher_) add_view_metrics(metrics_, *catalog_publisher_);
  if (!is_server()) return;
  add_state_metrics(metrics_, store_);
  metrics_.gauge("consul.session_ttl.active", "Sessions with a TTL this leader is timing")
      .set(static_cast<double>(session_timers_.armed()));
  bool leader = replicated_ ? replicated_->is_leader() : true;
  metrics_.gauge("consul.server.isLeader", "1 on the datacenter's leader").set(leader ? 1 : 0);
  if (rpc_server_) {
    const rpc::ServerStats& st = rpc_server_->stats();
    metrics_.counter("consul.rpc.request", "RPC requests this server received").value =
        st.calls + st.rejected_calls;
    metrics_
        .counter("consul.rpc.request_error",
                 "RPC requests refused before a handler (bad, unknown, too large...)")
        .value = st.rejected_calls;
  }
  if (!replicated_) return;
  if (const server::EtcdWriter* w = replicated_->etcd_writer())
    metrics_.counter("consul.raft.apply", "Transactions this server committed to etcd").value =
        w->counters().commits;
  if (leader && membership_) {
    ServerHealth h{1, 1};  // this one
    for (const server::SeenServer& s : membership_->seen_servers()) {
      ++h.servers;
      if (s.alive) ++h.alive;
    }
    add_autopilot_metrics(metrics_, h);
  }
}

// Consul's telemetry sinks: statsd (labels in the name, the host in gauge
// names unless disable_hostname) and DogStatsD (labels and dogstatsd_tags as tags).
std::string Agent::start_metric_sinks() {
  const config::Telemetry& t = cfg_.telemetry;
  auto interval_ms = static_cast<uint64_t>(t.metrics_interval / kMillisecond);
  auto add = [&](const std::string& address, bool dogstatsd, const char* key) -> std::string {
    if (address.empty()) return "";
    StatsdOptions o;
    o.dogstatsd = dogstatsd;
    o.prefix = t.metrics_prefix;
    if (!t.disable_hostname) o.hostname = config::hostname();
    if (dogstatsd) o.tags = t.dogstatsd_tags;
    std::string err;
    auto sink = StatsdSink::create(
        loop_, address, std::move(o), interval_ms,
        [this](MetricsRegistry& into) { collect_metrics(into); }, metrics_, err);
    if (!sink) return std::string("telemetry.") + key + ": " + err;
    metric_sinks_.push_back(std::move(sink));
    log::info("agent", "sending metrics",
              {{"to", address}, {"format", dogstatsd ? "dogstatsd" : "statsd"}});
    return "";
  };
  if (std::string e = add(t.statsd_address, false, "statsd_address"); !e.empty()) return e;
  return add(t.dogstatsd_addr, true, "dogstatsd_addr");
}

void Agent::leave(std::function<void()> done) {
  auto leave_gossip = [this, done = std::move(done)] {
    if (!membership_) {
      done();
      return;
    }
    membership_->leave(done);
  };
  // A server leaves the consensus first, as Consul's leaves raft before serf.
  if (replicated_)
    replicated_->leave_cluster(std::move(leave_gossip));
  else
    leave_gossip();
}

void Agent::release_config_definitions() {
  // Applied definitions live in the local state; a second copy of every
  // service and check (10,000 checks: ~10 MB) would only wait for the next
  // reload, which reads the files again anyway.
  cfg_.services = {};
  cfg_.checks = {};
  // Loading thousands of definitions leaves freed parse trees behind: give
  // that memory back to the system rather than keep it in malloc's arenas.
  malloc_trim(0);
}

// Who follows the store's changes: the extra DNS loops' replicas and the
// clients watching this server's catalog. A server's watch cache and a
// client's mirror load (and re-load) whole snapshots.
void Agent::listen_to_store() {
  if (!dns_loops_ && !catalog_publisher_) return;
  store_.set_apply_listener([this](std::span<const state::Mutation> batch, uint64_t index) {
    if (dns_loops_) dns_loops_->replicate(batch, index);
    if (catalog_publisher_) catalog_publisher_->on_batch(batch, index);
  });
  store_.set_snapshot_listener([this](std::span<const state::Mutation> rows, uint64_t index) {
    if (dns_loops_) dns_loops_->replace(rows, index);
    if (catalog_publisher_) catalog_publisher_->on_snapshot();
  });
}

std::string Agent::start_rpc() {
  if (is_server()) {
    if (cfg_.ports.server <= 0) return "";
    rpc_server_ = std::make_unique<rpc::Server>(loop_);
    forward::serve_forwarded_requests(*rpc_server_, http_handler_);
    forward::serve_node_sync(*rpc_server_, *writer_,
                             &metrics_.summary("consul.catalog.register",
                                               "Milliseconds to apply a catalog registration"));
    catalog_publisher_ = std::make_unique<forward::CatalogPublisher>(store_);
    catalog_publisher_->attach(*rpc_server_);
    forward::serve_datacenter_rows(*rpc_server_, store_, datacenter_ways());
    forward::serve_remote_queries(*rpc_server_, store_, cfg_.datacenter);
    if (membership_->wan())
      remote_datacenters_ = std::make_unique<forward::RemoteDatacenters>(loop_, cfg_.datacenter,
                                                                         identity_.name);
    // Where gossip binds: the address other agents learn for this server.
    std::string ip = cfg_.bind_addr == "0.0.0.0" && cfg_.dev ? "127.0.0.1" : cfg_.bind_addr;
    if (rpc::Status st = rpc_server_->listen(ip, static_cast<uint16_t>(cfg_.ports.server)); !st.ok())
      return "server RPC: " + st.message;
    return "";
  }
  forwarder_ = std::make_unique<forward::Forwarder>(
      loop_, forward::Forwarder::Settings{identity_.name, 15'000, uv_hrtime()});
  catalog_push_ = std::make_unique<forward::CatalogPush>(
      loop_, *forwarder_,
      [this] {
        std::string body;
        forward::encode_node_sync(identity_, local(), body, [this](const std::string& id) {
          return local_agent_.output_deferred(id);
        });
        return body;
      },
      [this](const std::vector<std::string>& ids, std::string& out) {
        return forward::encode_check_sync(identity_.name, local(), ids, out);
      });
  local_agent_.set_sync_listener(
      [this] {
        if (catalog_push_) catalog_push_->changed();
      },
      [this](const std::string& id) {
        if (catalog_push_) catalog_push_->check_changed(id);
      });
  forward::CatalogMirror::Settings view;
  view.subscription_ttl_ms = static_cast<uint64_t>(cfg_.client_view.subscription_ttl / kMillisecond);
  view.max_subscriptions = static_cast<size_t>(cfg_.client_view.max_subscriptions);
  catalog_mirror_ = std::make_unique<forward::CatalogMirror>(loop_, *forwarder_, store_, view);
  catalog_mirror_->set_coverage_listener([this](std::vector<std::string> held) {
    if (dns_loops_) dns_loops_->set_coverage(held);
  });
  membership_->set_member_listener([this] { update_rpc_servers(); });
  update_rpc_servers();
  return "";
}

// The datacenter's live servers from gossip; the first time one is known the
// local state is pushed to it.
void Agent::update_rpc_servers() {
  if (!forwarder_) return;  // shut down
  std::vector<forward::ServerEntry> servers;
  for (const auto& s : membership_->seen_servers())
    if (s.alive && s.datacenter == cfg_.datacenter && !s.address.empty())
      servers.push_back({s.name, s.address, s.rpc_port, -1});
  bool had = forwarder_->current_server() != nullptr;
  forwarder_->set_servers(std::move(servers));
  if (!had && forwarder_->current_server() != nullptr) catalog_push_->server_found();
  if (catalog_mirror_) catalog_mirror_->servers_changed();
}

forward::Forwarder* Agent::route_to_datacenter(std::string_view datacenter) {
  if (forwarder_) return forwarder_.get();
  if (!remote_datacenters_) return nullptr;
  std::map<std::string, std::vector<forward::ServerEntry>> by_datacenter;
  for (const auto& s : membership_->wan_servers())
    if (s.alive && !s.address.empty())
      by_datacenter[s.datacenter].push_back({s.name, s.address, s.rpc_port, -1});
  remote_datacenters_->update(std::move(by_datacenter));
  return remote_datacenters_->find(datacenter);
}

forward::DatacenterWays Agent::datacenter_ways() {
  forward::DatacenterWays ways;
  ways.local_datacenter = cfg_.datacenter;
  ways.route = [this](std::string_view dc) { return route_to_datacenter(dc); };
  if (is_server())
    ways.plan_failover = [this](const state::QueryFailover& f) {
      return failover_datacenters(f.nearest_n, f.datacenters);
    };
  return ways;
}

std::vector<std::string> Agent::failover_datacenters(int nearest_n,
                                                     const std::vector<std::string>& listed) const {
  std::vector<std::string> others = membership_ ? membership_->datacenters() : std::vector<std::string>{};
  if (!others.empty()) others.erase(others.begin());  // this one comes first
  return forward::plan_failover(others, nearest_n, listed);
}

void Agent::shutdown() {
  // The member stops after this server resigns leadership; the loop runs until it has exited.
  if (replicated_) replicated_->shutdown([] { log::info("server", "etcd member stopped"); });
  if (membership_) membership_->shutdown();
  metric_sinks_.clear();
  session_timers_.clear();
  tombstone_gc_.stop();
  if (http_) http_->close();
  if (rpc_server_) rpc_server_->close();
  if (dns_) dns_->close();
  store_.set_apply_listener(nullptr);
  store_.set_snapshot_listener(nullptr);
  dns_loops_.reset();
  local_agent_.shutdown();
  // A client's forwarding keeps a connection to its server and timers: they
  // would keep the loop, and so the process, alive after a graceful stop.
  catalog_mirror_.reset();
  catalog_push_.reset();
  forwarder_.reset();
  remote_datacenters_.reset();
}

std::string Agent::reload() {
  config::Config next;
  if (flags_.dev) config::apply_dev_defaults(next);
  std::string err =
      config::load_files(next, flags_.config_files, flags_.config_dirs, flags_.config_format);
  if (err.empty()) err = config::apply_overrides(next, flags_);
  if (err.empty()) err = config::validate(next);
  if (err.empty()) {
    // Validate every definition before touching anything: all or nothing.
    for (auto& def : next.services)
      for (const auto& c : def.checks)
        if (OpResult r = local_agent_.check_allowed(c, local::Source::config);
            !r.ok() && err.empty())
          err = def.file + ":" + std::to_string(c.line) + ": " + r.message;
  }
  if (!err.empty()) {
    metrics_
        .counter("cairn.agent.config_reload_failures",
                 "Configuration reloads refused (syntax, limits, duplicate keys, invalid values)")
        .inc();
    log::error("agent", "reload failed, keeping the running configuration", {{"error", err}});
    return err;
  }
  err = local_agent_.apply_config_definitions(next);
  if (!err.empty()) {
    log::error("agent", "reload failed", {{"error", err}});
    return err;
  }
  log::Level lvl;
  if (log::parse_level(next.log_level, lvl) && lvl != log::level()) {
    log::set_level(lvl);
    cfg_.log_level = next.log_level;
  }
  if (dns_) {
    // dns_config, domains and recursors apply at once, as Consul hot-reloads them.
    config::Config dns_cfg = next;
    dns_cfg.node_name = cfg_.node_name;
    if (dns_->reload(dns_cfg).empty()) {
      if (dns_loops_) dns_loops_->reload(dns_cfg);
      if (next.dns_config.udp_loops != cfg_.dns_config.udp_loops)
        log::warn("agent", "dns_config.udp_loops changes at the next restart");
      cfg_.dns_config = next.dns_config;
      cfg_.recursors = next.recursors;
    }
  }
  release_config_definitions();
  cfg_.files = next.files;
  local_agent_.sync_catalog();
  log::info("agent", "reloaded configuration",
            {{"services", std::to_string(local().services().size())},
             {"checks", std::to_string(local().checks().size())}});
  return "";
}

}  // namespace cairn
