#include "agent/agent.h"

#include <malloc.h>

#include <cstdlib>
#include <sstream>
#include <string_view>

#include "agent/config/encode_definition.h"
#include "agent/config/identity.h"
#include "agent/dns/dns_loops.h"
#include "agent/dns/dns_server.h"
#include "agent/http/api.h"
#include "agent/http/read_cache.h"
#include "agent/membership.h"
#include "agent/server/leader.h"
#include "agent/user_event_filter.h"
#include "common/files.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "common/regex.h"
#include "common/value.h"
#include "cairn_version.h"

namespace cairn {

namespace {

constexpr const char* kNodeMaintenanceID = "_node_maintenance";
constexpr const char* kServiceMaintenancePrefix = "_service_maintenance:";
// Consul's default reasons, which operators see in `cairn status` and the UI.
constexpr const char* kDefaultNodeMaintReason =
    "Maintenance mode is enabled for this node, but no reason was provided. This is a default "
    "message.";
constexpr const char* kDefaultServiceMaintReason =
    "Maintenance mode is enabled for this service, but no reason was provided. This is a default "
    "message.";
// Rendered read answers kept for reuse (see read_cache.h); small next to the
// 30 MB an agent with 1,000 services should stay under.
constexpr size_t kReadCacheEntries = 256;
constexpr size_t kReadCacheBytes = 8 * 1024 * 1024;
// Consul's tombstone_ttl and tombstone_ttl_granularity.
constexpr Nanos kTombstoneTTL = 15 * kMinute;
constexpr Nanos kTombstoneGranularity = 30 * kSecond;
// Full anti-entropy pass, as Consul's for clusters of up to 128 nodes.
constexpr uint64_t kFullSyncIntervalMs = 60'000;

std::string services_path(const std::string& id) { return "services/" + local::persisted_name(id); }
std::string checks_path(const std::string& id) { return "checks/" + local::persisted_name(id); }
std::string check_state_path(const std::string& id) {
  return "checks/state/" + local::persisted_name(id);
}

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
      replicated_(make_replicated_state()),
      writer_(replicated_ ? &replicated_->writer()
                          : static_cast<server::CatalogWriter*>(dev_writer_.get())),
      session_timers_(loop, *writer_),
      tombstone_gc_(loop, *writer_, store_, kTombstoneTTL, kTombstoneGranularity),
      local_(cfg_.node_name),
      persister_(loop, cfg_.data_dir),
      checks_(
          loop,
          checks::CheckManagerSettings{&store_, cfg_.node_name,
                                       static_cast<size_t>(cfg_.check_output_max_size),
                                       cfg_.tls.ca_file, cfg_.tls.ca_path,
                                       checks::ReaperSettings::from_environment()},
          [this](const std::string& id, std::string_view status, std::string_view output) {
            on_check_result(id, status, output);
          },
          [this](const std::string& service_id, const std::string&) {
            // deregister_critical_service_after: the reaper's verdict.
            deregister_service(service_id, [](OpResult) {});
          }),
      read_cache_(std::make_unique<http_api::ReadCache>(kReadCacheEntries, kReadCacheBytes)),
      sync_timer_(loop) {
  started_ms_ = uv_now(loop);
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
  sync_catalog();
}

void Agent::on_leadership_changed(bool gained) {
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

std::string Agent::start() {
  restore_persisted();
  std::string err = apply_config_definitions(cfg_);
  if (!err.empty()) return err;
  sync_catalog();

  auto api = std::make_shared<http_api::Api>(*this);
  http_ = std::make_unique<http::Server>(
      loop_, http_server_limits(cfg_),
      [api](const std::shared_ptr<http::Exchange>& ex) { api->handle(ex); });
  http_->set_response_headers(
      {cfg_.http_config.response_headers.begin(), cfg_.http_config.response_headers.end()});
  if (cfg_.ports.http > 0) {
    std::istringstream addrs(cfg_.client_addr);
    std::string host;
    while (addrs >> host) {
      std::string e = http_->listen(host, cfg_.ports.http);
      if (!e.empty()) return "HTTP API: " + e;
    }
  }

  // Membership's catalog writes are leader duties: fenced on servers over etcd.
  membership_ = std::make_unique<Membership>(
      loop_, cfg_, identity_, replicated_ ? replicated_->leader_writer() : *writer_, is_server(),
      [this](const UserEvent& ev) { return event_matches_this_agent(ev); });
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
  if (cfg_.ports.dns > 0) {
    dns_ = std::make_unique<dns::DnsServer>(loop_, store_, metrics_);
    std::string e = dns_->start(cfg_);
    if (!e.empty()) return "DNS: " + e;
    if (cfg_.dns_config.udp_loops > 1) {
      dns_loops_ = dns::DnsLoops::start(store_, cfg_, dns_->port(), cfg_.dns_config.udp_loops - 1, e);
      if (!dns_loops_) return "DNS: " + e;
      store_.set_apply_listener([this](std::span<const state::Mutation> batch, uint64_t index) {
        dns_loops_->replicate(batch, index);
      });
    }
  }

  if (std::string e = start_metric_sinks(); !e.empty()) return e;

  sync_timer_.start(kFullSyncIntervalMs, kFullSyncIntervalMs, [this] { sync_catalog(); });
  sync_timer_.unref();
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
      .set(static_cast<double>(local_.services().size()));
  metrics_.gauge("consul.agent.checks", "Checks registered on this agent")
      .set(static_cast<double>(local_.checks().size()));
  metrics_.gauge("consul.catalog.index", "Current catalog index")
      .set(static_cast<double>(store_.index()));
  metrics_.gauge("consul.catalog.watches", "Blocking queries waiting on the state store")
      .set(static_cast<double>(store_.watch_count()));
  metrics_.gauge("consul.runtime.uptime_seconds", "Seconds since the agent started")
      .set(static_cast<double>(uptime_ms()) / 1000.0);
  report_regex_refusals(metrics_);
  into.add_from(metrics_);
  // The extra DNS loops count in registries of their own: add them up.
  add_dns_loop_metrics(into);
  if (membership_) membership_->add_metrics_to(into);
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

// Consul's user-event filters (agent/user_event_filter.h). An event whose filters do not
// compile is not delivered, as in Consul; the fire endpoint refuses such events up front, so
// only other members can send them.
bool Agent::event_matches_this_agent(const UserEvent& ev) const {
  UserEventFilterError error;
  std::optional<UserEventFilter> filter = UserEventFilter::compile(ev, error);
  if (!filter) {
    log::warn("agent", "dropping user event with an invalid filter",
              {{"event", ev.name}, {"error", error.message()}});
    return false;
  }
  return filter->matches(identity_.name, local_.services());
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

void Agent::shutdown() {
  // The member stops after this server resigns leadership; the loop runs until it has exited.
  if (replicated_) replicated_->shutdown([] { log::info("server", "etcd member stopped"); });
  if (membership_) membership_->shutdown();
  metric_sinks_.clear();
  sync_timer_.stop();
  session_timers_.clear();
  tombstone_gc_.stop();
  if (http_) http_->close();
  if (dns_) dns_->close();
  store_.set_apply_listener(nullptr);
  dns_loops_.reset();
  checks_.stop_all();
  persister_.flush();
}

// ---------------------------------------------------------------------------
// Catalog sync (anti-entropy). In -dev the catalog is in this process, so a
// change reaches it before the API answers.

void Agent::sync_check(const std::string& id) {
  writer_->write(
      [this, id](const state::Store& store, int64_t, state::Batch& out) {
        if (!local::plan_sync_check(store, identity_, local_, id, out))
          return local::plan_sync(store, identity_, local_, out);
        return std::string();
      },
      [](const server::WriteResult& r) {
        if (!r.ok())
          log::warn("agent", "syncing a check to the catalog failed", {{"error", r.message}});
      });
}

void Agent::sync_catalog() {
  local::NodeIdentity ident = identity_;
  writer_->write(
      [this, ident](const state::Store& store, int64_t, state::Batch& out) {
        return server::PlanStatus(local::plan_sync(store, ident, local_, out));
      },
      [this](const server::WriteResult& r) {
        if (!r.ok()) {
          log::warn("agent", "syncing to the catalog failed",
                    {{"error", r.message}, {"code", server::write_code_name(r.code)}});
          return;
        }
        if (!is_server()) return;
        server::ServerMember me{identity_.name, identity_.address, cfg_.ports.server, true,
                                CAIRN_VERSION};
        writer_->write(
            [me](const state::Store& store, int64_t, state::Batch& out) {
              return server::plan_member_health(store, me, true, out);
            },
            nullptr);
      });
}

// ---------------------------------------------------------------------------
// Services and checks.

OpResult Agent::check_allowed(const config::CheckSpec& spec, local::Source source) const {
  if (std::string err = checks::validate_runnable(spec); !err.empty())
    return OpResult::error(400, err);
  if (spec.type() == "script" || spec.type() == "docker") {
    bool allowed = cfg_.enable_script_checks ||
                   (source == local::Source::config && cfg_.enable_local_script_checks);
    if (!allowed)
      return OpResult::error(
          400, "Scripts are disabled on this agent; to enable, configure "
               "'enable_script_checks' or 'enable_local_script_checks' to true");
  }
  return {};
}

local::LocalCheck Agent::make_local_check(const config::CheckSpec& spec, local::Source source,
                                         const state::Service* svc) const {
  local::LocalCheck lc = local::LocalCheck::from_spec(cfg_.node_name, spec, svc, source);
  // Re-registering an unchanged check keeps its current result.
  if (const local::LocalCheck* old = local_.check(lc.check.check_id);
      old && old->check.definition == spec.def && spec.status.empty()) {
    lc.check.status = old->check.status;
    lc.check.output = old->check.output;
  }
  return lc;
}

void Agent::start_check(const local::LocalCheck& c) {
  config::CheckSpec spec = c.spec();
  if (c.check.check_id.rfind("_", 0) == 0 && spec.type().empty()) return;  // maintenance
  uint64_t restored = 0;
  if (auto it = restored_ttl_ms_.find(c.check.check_id); it != restored_ttl_ms_.end()) {
    restored = it->second;
    restored_ttl_ms_.erase(it);
  }
  checks_.start(c.check.check_id, spec, c.check.status, c.check.output, restored);
}

OpResult Agent::add_service_locally(config::ServiceDefinition def, local::Source source,
                                    bool replace_existing_checks,
                                    std::vector<local::LocalCheck>* added, std::string* id_out) {
  std::string err = config::validate_service(def);
  if (!err.empty()) return OpResult::error(400, err);
  for (const auto& c : def.checks)
    if (OpResult r = check_allowed(c, source); !r.ok()) return r;

  local::LocalService ls;
  ls.service = def.service;
  ls.source = source;
  ls.definition = def;
  ls.definition.checks = {};  // kept (and persisted) on their own: free, not just clear
  const std::string id = def.service.id;
  if (id_out) *id_out = id;

  std::set<std::string> new_ids;
  for (const auto& c : def.checks) new_ids.insert(c.id);
  if (replace_existing_checks) {
    for (const local::LocalCheck* c : local_.checks_of_service(id)) {
      if (new_ids.count(c->check.check_id) || c->check.check_id.rfind("_", 0) == 0) continue;
      std::string cid = c->check.check_id;
      checks_.stop(cid);
      local_.remove_check(cid);
      persister_.remove(checks_path(cid), nullptr);
      persister_.remove(check_state_path(cid), nullptr);
    }
  }
  local_.put_service(ls);
  const state::Service* svc = &local_.service(id)->service;
  for (const auto& spec : def.checks) {
    local::LocalCheck lc = make_local_check(spec, source, svc);
    local_.put_check(lc);
    if (added) added->push_back(lc);
  }
  return {};
}

void Agent::register_service(config::ServiceDefinition def, local::Source source,
                             bool replace_existing_checks, OpDone done) {
  std::vector<local::LocalCheck> added;
  std::string id;
  OpResult r = add_service_locally(std::move(def), source, replace_existing_checks, &added, &id);
  if (!r.ok()) {
    done(r);
    return;
  }
  for (const auto& c : added) start_check(c);
  sync_catalog();
  log::info("agent", "registered service", {{"service", id}});
  if (source != local::Source::api) {
    done({});
    return;
  }
  // Persist the service and each of its checks (as Consul does, one file each)
  // before answering; answer with the first error, if any.
  auto pending = std::make_shared<size_t>(1 + added.size());
  auto first_error = std::make_shared<OpResult>();
  OpDone one = [pending, first_error, done](OpResult res) {
    if (!res.ok() && first_error->ok()) *first_error = res;
    if (--*pending == 0) done(*first_error);
  };
  persist_service(*local_.service(id), one);
  for (const auto& c : added) persist_check(c, one);
}

void Agent::persist_service(const local::LocalService& svc, OpDone done) {
  std::string body;
  JsonWriter w(body);
  config::write_service_definition(w, svc.definition);
  persister_.write(services_path(svc.service.id), std::move(body),
                   [done](const std::string& err) {
                     if (!done) return;
                     done(err.empty() ? OpResult{} : OpResult::error(500, err));
                   });
}

void Agent::persist_check(const local::LocalCheck& c, OpDone done) {
  std::string body;
  JsonWriter w(body);
  config::write_check_spec(w, c.spec());
  persister_.write(checks_path(c.check.check_id), std::move(body),
                   [done](const std::string& err) {
                     if (!done) return;
                     done(err.empty() ? OpResult{} : OpResult::error(500, err));
                   });
}

void Agent::persist_check_state(const std::string& id) {
  const local::LocalCheck* c = local_.check(id);
  if (!c) return;
  std::string body;
  JsonWriter w(body);
  w.begin_object();
  w.field("CheckID", id);
  w.field("Status", c->check.status);
  w.field("Output", c->check.output);
  if (checks::TtlCheck* ttl = checks_.ttl(id)) {
    // Wall-clock deadline: the loop clock does not survive a restart.
    int64_t left = static_cast<int64_t>(ttl->deadline_ms()) - static_cast<int64_t>(uv_now(loop_));
    w.field("Expires", static_cast<int64_t>(time(nullptr)) * 1000 + std::max<int64_t>(0, left));
  }
  w.end_object();
  persister_.write(check_state_path(id), std::move(body), nullptr);
}

void Agent::deregister_service(const std::string& id, OpDone done) {
  const local::LocalService* svc = local_.service(id);
  if (!svc) {
    done(OpResult::error(404, "Unknown service ID \"" + id +
                                  "\". Ensure that the service ID is passed, not the service name."));
    return;
  }
  bool persisted = svc->source == local::Source::api;
  for (const std::string& cid : local_.remove_service(id)) {
    checks_.stop(cid);
    persister_.remove(checks_path(cid), nullptr);
    persister_.remove(check_state_path(cid), nullptr);
  }
  sync_catalog();
  log::info("agent", "deregistered service", {{"service", id}});
  if (!persisted) {
    done({});
    return;
  }
  persister_.remove(services_path(id), [done](const std::string& err) {
    done(err.empty() ? OpResult{} : OpResult::error(500, err));
  });
}

void Agent::register_check(config::CheckSpec spec, local::Source source, OpDone done) {
  std::string err = config::validate_check(spec, true);
  if (!err.empty()) {
    done(OpResult::error(400, err));
    return;
  }
  if (OpResult r = check_allowed(spec, source); !r.ok()) {
    done(r);
    return;
  }
  if (spec.id.empty()) spec.id = spec.name;
  const state::Service* svc = nullptr;
  if (!spec.service_id.empty()) {
    const local::LocalService* ls = local_.service(spec.service_id);
    if (!ls) {
      done(OpResult::error(400, "ServiceID \"" + spec.service_id +
                                    "\" does not exist"));
      return;
    }
    svc = &ls->service;
  }
  local::LocalCheck lc = make_local_check(spec, source, svc);
  local_.put_check(lc);
  start_check(lc);
  sync_catalog();
  if (source != local::Source::api) {
    done({});
    return;
  }
  persist_check(lc, done);
}

void Agent::deregister_check(const std::string& id, OpDone done) {
  if (!local_.check(id)) {
    done({});  // Consul: deregistering an unknown check is a no-op
    return;
  }
  checks_.stop(id);
  local_.remove_check(id);
  sync_catalog();
  persister_.remove(check_state_path(id), nullptr);
  persister_.remove(checks_path(id), [done](const std::string& err) {
    done(err.empty() ? OpResult{} : OpResult::error(500, err));
  });
}

void Agent::on_check_result(const std::string& id, std::string_view status,
                            std::string_view output) {
  const local::LocalCheck* c = local_.check(id);
  if (!c) return;
  // Runners cap their own output; this is the backstop for any that would not.
  size_t max = static_cast<size_t>(cfg_.check_output_max_size);
  if (output.size() > 2 * max + 1024) output = output.substr(0, 2 * max + 1024);
  if (c->check.status == status && c->check.output == output) return;  // the common case
  std::string old_status = c->check.status;
  local_.update_check(id, std::string(status), std::string(output));
  if (old_status == status) {
    // Output-only changes reach the catalog with the next full sync, as
    // Consul defers them (check_update_interval): a check whose output
    // changes every run must not rewrite the catalog every run.
    return;
  }
  // A status change is logged once and synced at once.
  if (status == state::kCritical)
    log::warn("agent", "check status changed",
              {{"check", id}, {"from", old_status}, {"to", status}});
  else
    log::info("agent", "check status changed",
              {{"check", id}, {"from", old_status}, {"to", status}});
  persist_check_state(id);
  sync_check(id);
}

OpResult Agent::ttl_update(const std::string& id, const std::string& status, std::string output) {
  checks::TtlCheck* ttl = checks_.ttl(id);
  if (!ttl) return OpResult::error(500, "CheckID \"" + id + "\" does not have associated TTL");
  ttl->report(status, output);
  // A TTL report also moves the deadline: keep it for restarts.
  persist_check_state(id);
  return {};
}

void Agent::service_maintenance(const std::string& service_id, bool enable,
                                const std::string& reason, OpDone done) {
  const local::LocalService* svc = local_.service(service_id);
  if (!svc) {
    done(OpResult::error(404, "No service registered with ID \"" + service_id + "\""));
    return;
  }
  std::string cid = kServiceMaintenancePrefix + service_id;
  if (!enable) {
    deregister_check(cid, done);
    return;
  }
  if (local_.check(cid)) {
    done({});
    return;
  }
  config::CheckSpec spec;
  spec.id = cid;
  spec.name = "Service Maintenance Mode";
  spec.notes = reason.empty() ? kDefaultServiceMaintReason : reason;
  spec.service_id = service_id;
  spec.status = state::kCritical;
  local::LocalCheck lc =
      local::LocalCheck::from_spec(cfg_.node_name, spec, &svc->service, local::Source::api);
  lc.check.type = "maintenance";
  local_.put_check(lc);
  sync_catalog();
  log::info("agent", "service entered maintenance mode", {{"service", service_id}});
  persist_check(lc, done);
}

void Agent::node_maintenance(bool enable, const std::string& reason, OpDone done) {
  if (!enable) {
    deregister_check(kNodeMaintenanceID, done);
    return;
  }
  if (local_.check(kNodeMaintenanceID)) {
    done({});
    return;
  }
  config::CheckSpec spec;
  spec.id = kNodeMaintenanceID;
  spec.name = "Node Maintenance Mode";
  spec.notes = reason.empty() ? kDefaultNodeMaintReason : reason;
  spec.status = state::kCritical;
  local::LocalCheck lc =
      local::LocalCheck::from_spec(cfg_.node_name, spec, nullptr, local::Source::api);
  lc.check.type = "maintenance";
  local_.put_check(lc);
  sync_catalog();
  log::info("agent", "node entered maintenance mode");
  persist_check(lc, done);
}

// ---------------------------------------------------------------------------
// Persisted state and config definitions.

void Agent::restore_persisted() {
  if (!persister_.enabled()) return;
  const std::string& dir = persister_.dir();
  for (const auto& path : list_files(dir + "/services", {".json"})) {
    std::string text, err;
    Value v;
    ParseError perr;
    if (!read_file(path, text, err) || !parse_json(text, v, perr)) {
      log::error("agent", "skipping unreadable persisted service",
                 {{"file", path}, {"error", err.empty() ? perr.message : err}});
      continue;
    }
    try {
      Decoder d(path, false);
      config::ServiceDefinition def = config::decode_service(d, v);
      def.checks.clear();  // persisted separately under checks/
      OpResult r = add_service_locally(std::move(def), local::Source::api, false, nullptr, nullptr);
      if (!r.ok())
        log::error("agent", "skipping invalid persisted service", {{"file", path}, {"error", r.message}});
    } catch (const DecodeError& e) {
      log::error("agent", "skipping invalid persisted service",
                 {{"file", path}, {"error", format_decode_error(e)}});
    }
  }
  for (const auto& path : list_files(dir + "/checks", {".json"})) {
    std::string text, err;
    Value v;
    ParseError perr;
    if (!read_file(path, text, err) || !parse_json(text, v, perr)) continue;
    try {
      Decoder d(path, false);
      config::CheckSpec spec = config::decode_check(d, v);
      const state::Service* svc = nullptr;
      if (!spec.service_id.empty()) {
        const local::LocalService* ls = local_.service(spec.service_id);
        if (!ls) continue;
        svc = &ls->service;
      }
      local::LocalCheck lc =
          local::LocalCheck::from_spec(cfg_.node_name, spec, svc, local::Source::api);
      if (spec.id.rfind("_", 0) == 0) lc.check.type = "maintenance";
      local_.put_check(lc);
    } catch (const DecodeError& e) {
      log::error("agent", "skipping invalid persisted check",
                 {{"file", path}, {"error", format_decode_error(e)}});
    }
  }
  // Last known results: checks come back with the status they had.
  int64_t now_ms = static_cast<int64_t>(time(nullptr)) * 1000;
  for (const auto& path : list_files(dir + "/checks/state", {".json"})) {
    std::string text, err;
    Value v;
    ParseError perr;
    if (!read_file(path, text, err) || !parse_json(text, v, perr)) continue;
    const Value* id = v.find("checkid");
    const Value* status = v.find("status");
    const Value* output = v.find("output");
    const Value* expires = v.find("expires");
    if (!id || !status || id->kind != Value::Kind::string) continue;
    if (!local_.check(id->s) || !state::is_valid_status(status->s)) continue;
    local_.update_check(id->s, status->s, output ? output->s : "");
    if (expires && expires->kind == Value::Kind::integer)
      restored_ttl_ms_[id->s] = static_cast<uint64_t>(std::max<int64_t>(1, expires->i - now_ms));
  }
  for (const auto& [id, c] : local_.checks()) start_check(c);
  size_t n = local_.services().size();
  if (n) log::info("agent", "restored persisted services", {{"count", std::to_string(n)}});
}

std::string Agent::apply_config_definitions(const config::Config& next) {
  // Services: remove config-defined ones that are gone, (re)add the rest.
  std::set<std::string> wanted;
  for (const auto& def : next.services) wanted.insert(def.service.id);
  std::vector<std::string> gone;
  for (const auto& [id, s] : local_.services())
    if (s.source == local::Source::config && !wanted.count(id)) gone.push_back(id);
  for (const auto& id : gone) deregister_service(id, [](OpResult) {});

  for (const auto& def : next.services) {
    const local::LocalService* cur = local_.service(def.service.id);
    if (cur && cur->source == local::Source::config && cur->service.same_content([&] {
          state::Service s = def.service;
          s.node = cur->service.node;
          return s;
        }())) {
      // Same service; only re-register if its checks changed.
      size_t current = 0;
      for (const local::LocalCheck* c : local_.checks_of_service(def.service.id))
        if (c->check.check_id.rfind("_", 0) != 0) current++;
      bool same_checks = current == def.checks.size();
      for (size_t i = 0; same_checks && i < def.checks.size(); ++i) {
        config::CheckSpec spec = def.checks[i];
        const local::LocalCheck* c = local_.check(spec.id);
        same_checks = c && c->check.definition == spec.def && c->check.name == spec.name &&
                      c->check.notes == spec.notes;
      }
      if (same_checks) continue;
    }
    std::vector<local::LocalCheck> added;
    OpResult r = add_service_locally(def, local::Source::config, true, &added, nullptr);
    if (!r.ok()) return def.file + ":" + std::to_string(def.line) + ": service: " + r.message;
    for (const auto& c : added) start_check(c);
  }

  std::set<std::string> wanted_checks;
  for (const auto& c : next.checks) wanted_checks.insert(c.id);
  std::vector<std::string> gone_checks;
  for (const auto& [id, c] : local_.checks())
    if (c.source == local::Source::config && c.check.service_id.empty() && !wanted_checks.count(id))
      gone_checks.push_back(id);
  for (const auto& id : gone_checks) deregister_check(id, [](OpResult) {});
  for (const auto& spec : next.checks) {
    const local::LocalCheck* cur = local_.check(spec.id);
    if (cur && cur->source == local::Source::config && cur->check.definition == spec.def &&
        cur->check.name == spec.name)
      continue;
    std::string err;
    register_check(spec, local::Source::config, [&err](OpResult r) {
      if (!r.ok()) err = r.message;
    });
    if (!err.empty()) return "check " + spec.id + ": " + err;
  }
  return "";
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
        if (OpResult r = check_allowed(c, local::Source::config); !r.ok() && err.empty())
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
  err = apply_config_definitions(next);
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
  sync_catalog();
  log::info("agent", "reloaded configuration",
            {{"services", std::to_string(local_.services().size())},
             {"checks", std::to_string(local_.checks().size())}});
  return "";
}

}  // namespace cairn
