#include "agent/local_agent.h"

#include <optional>
#include <set>

#include "agent/config/encode_definition.h"
#include "agent/local/sync_timing.h"
#include "agent/server/leader.h"
#include "agent/user_event_filter.h"
#include "cairn_version.h"
#include "common/files.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "common/value.h"

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

std::string services_path(const std::string& id) {
  return "services/" + local::persisted_name(id);
}
std::string checks_path(const std::string& id) {
  return "checks/" + local::persisted_name(id);
}
std::string check_state_path(const std::string& id) {
  return "checks/state/" + local::persisted_name(id);
}

}  // namespace

LocalAgent::LocalAgent(uv_loop_t* loop, const config::Config& cfg,
                       const local::NodeIdentity& identity, server::CatalogWriter& writer,
                       const state::Store& store)
    : loop_(loop),
      cfg_(cfg),
      identity_(identity),
      writer_(writer),
      local_(cfg_.node_name),
      persister_(loop, cfg_.data_dir),
      checks_(
          loop,
          checks::CheckManagerSettings{
              &store, cfg_.node_name, static_cast<size_t>(cfg_.check_output_max_size),
              cfg_.tls.ca_file, cfg_.tls.ca_path, checks::ReaperSettings::from_environment()},
          [this](const std::string& id, std::string_view status, std::string_view output) {
            on_check_result(id, status, output);
          },
          [this](const std::string& service_id, const std::string&) {
            // deregister_critical_service_after: the reaper's verdict.
            deregister_service(service_id, [](OpResult) {});
          }),
      sync_timer_(loop),
      deferred_timer_(loop) {}

std::string LocalAgent::load() {
  restore_persisted();
  std::string err = apply_config_definitions(cfg_);
  if (!err.empty()) return err;
  sync_catalog();
  return "";
}

void LocalAgent::start_periodic_sync(std::function<size_t()> cluster_size) {
  cluster_size_ = std::move(cluster_size);
  size_t nodes = cluster_size_ ? cluster_size_() : 1;
  sync_timer_.start(local::full_sync_delay_ms(local::kFullSyncIntervalMs, nodes, random_draw()), 0,
                    [this] { full_sync_pass(); });
  sync_timer_.unref();
}

// Consul's StateSyncer: the next full sync is drawn when this one starts.
void LocalAgent::full_sync_pass() {
  size_t nodes = cluster_size_ ? cluster_size_() : 1;
  sync_timer_.start(local::full_sync_delay_ms(local::kFullSyncIntervalMs, nodes, random_draw()), 0,
                    [this] { full_sync_pass(); });
  sync_catalog();
}

local::OutputDeferred LocalAgent::deferred_outputs() const {
  return [this](const std::string& id) { return deferred_.pending(id); };
}

double LocalAgent::random_draw() {
  return std::uniform_real_distribution<double>(0.0, 1.0)(random_);
}

uint64_t LocalAgent::check_update_interval_ms() const {
  return cfg_.check_update_interval > 0
             ? static_cast<uint64_t>(cfg_.check_update_interval / kMillisecond)
             : 0;
}

void LocalAgent::shutdown() {
  sync_timer_.stop();
  deferred_timer_.stop();
  checks_.stop_all();
  persister_.flush();
}

// Consul's user-event filters (agent/user_event_filter.h). An event whose filters do not
// compile is not delivered, as in Consul; the fire endpoint refuses such events up front, so
// only other members can send them.
bool LocalAgent::event_matches_this_agent(const UserEvent& ev) const {
  UserEventFilterError error;
  std::optional<UserEventFilter> filter = UserEventFilter::compile(ev, error);
  if (!filter) {
    log::warn("agent", "dropping user event with an invalid filter",
              {{"event", ev.name}, {"error", error.message()}});
    return false;
  }
  return filter->matches(identity_.name, local_.services());
}

// ---------------------------------------------------------------------------
// Catalog sync (anti-entropy). In -dev the catalog is in this process, so a
// change reaches it before the API answers.

void LocalAgent::sync_check(const std::string& id) {
  if (check_sync_listener_) check_sync_listener_(id);
  writer_.write(
      [this, id](const state::Store& store, int64_t, state::Batch& out) {
        if (!local::plan_sync_check(store, identity_, local_, id, out))
          return local::plan_sync(store, identity_, local_, out, deferred_outputs());
        return std::string();
      },
      [](const server::WriteResult& r) {
        if (!r.ok())
          log::warn("agent", "syncing a check to the catalog failed", {{"error", r.message}});
      });
}

void LocalAgent::sync_catalog() {
  if (full_sync_listener_) full_sync_listener_();
  local::NodeIdentity ident = identity_;
  writer_.write(
      [this, ident](const state::Store& store, int64_t, state::Batch& out) {
        return server::PlanStatus(local::plan_sync(store, ident, local_, out, deferred_outputs()));
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
        writer_.write(
            [me](const state::Store& store, int64_t, state::Batch& out) {
              return server::plan_member_health(store, me, true, out);
            },
            nullptr);
      });
}

// ---------------------------------------------------------------------------
// Services and checks.

OpResult LocalAgent::check_allowed(const config::CheckSpec& spec, local::Source source) const {
  if (std::string err = checks::validate_runnable(spec); !err.empty())
    return OpResult::error(400, err);
  if (spec.type() == "script" || spec.type() == "docker") {
    bool allowed = cfg_.enable_script_checks ||
                   (source == local::Source::config && cfg_.enable_local_script_checks);
    if (!allowed)
      return OpResult::error(400,
                             "Scripts are disabled on this agent; to enable, configure "
                             "'enable_script_checks' or 'enable_local_script_checks' to true");
  }
  return {};
}

local::LocalCheck LocalAgent::make_local_check(const config::CheckSpec& spec, local::Source source,
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

void LocalAgent::start_check(const local::LocalCheck& c) {
  config::CheckSpec spec = c.spec();
  if (c.check.check_id.rfind("_", 0) == 0 && spec.type().empty()) return;  // maintenance
  uint64_t restored = 0;
  if (auto it = restored_ttl_ms_.find(c.check.check_id); it != restored_ttl_ms_.end()) {
    restored = it->second;
    restored_ttl_ms_.erase(it);
  }
  checks_.start(c.check.check_id, spec, c.check.status, c.check.output, restored);
}

OpResult LocalAgent::add_service_locally(config::ServiceDefinition def, local::Source source,
                                         bool replace_existing_checks,
                                         std::vector<local::LocalCheck>* added,
                                         std::string* id_out) {
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
      deferred_.cancel(cid);
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

void LocalAgent::register_service(config::ServiceDefinition def, local::Source source,
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

void LocalAgent::persist_service(const local::LocalService& svc, OpDone done) {
  std::string body;
  JsonWriter w(body);
  config::write_service_definition(w, svc.definition);
  persister_.write(services_path(svc.service.id), std::move(body), [done](const std::string& err) {
    if (!done) return;
    done(err.empty() ? OpResult{} : OpResult::error(500, err));
  });
}

void LocalAgent::persist_check(const local::LocalCheck& c, OpDone done) {
  std::string body;
  JsonWriter w(body);
  config::write_check_spec(w, c.spec());
  persister_.write(checks_path(c.check.check_id), std::move(body), [done](const std::string& err) {
    if (!done) return;
    done(err.empty() ? OpResult{} : OpResult::error(500, err));
  });
}

void LocalAgent::persist_check_state(const std::string& id) {
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

void LocalAgent::deregister_service(const std::string& id, OpDone done) {
  const local::LocalService* svc = local_.service(id);
  if (!svc) {
    done(OpResult::error(404,
                         "Unknown service ID \"" + id +
                             "\". Ensure that the service ID is passed, not the service name."));
    return;
  }
  bool persisted = svc->source == local::Source::api;
  for (const std::string& cid : local_.remove_service(id)) {
    checks_.stop(cid);
    deferred_.cancel(cid);
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

void LocalAgent::register_check(config::CheckSpec spec, local::Source source, OpDone done) {
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
      done(OpResult::error(400, "ServiceID \"" + spec.service_id + "\" does not exist"));
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

void LocalAgent::deregister_check(const std::string& id, OpDone done) {
  if (!local_.check(id)) {
    done({});  // Consul: deregistering an unknown check is a no-op
    return;
  }
  checks_.stop(id);
  deferred_.cancel(id);
  local_.remove_check(id);
  sync_catalog();
  persister_.remove(check_state_path(id), nullptr);
  persister_.remove(checks_path(id), [done](const std::string& err) {
    done(err.empty() ? OpResult{} : OpResult::error(500, err));
  });
}

void LocalAgent::on_check_result(const std::string& id, std::string_view status,
                                 std::string_view output) {
  const local::LocalCheck* c = local_.check(id);
  if (!c) return;
  // Runners cap their own output; this is the backstop for any that would not.
  size_t max = static_cast<size_t>(cfg_.check_output_max_size);
  if (output.size() > 2 * max + 1024) output = output.substr(0, 2 * max + 1024);
  if (c->check.status == status && c->check.output == output) return;  // the common case
  std::string old_status = c->check.status;
  bool status_changed = old_status != status;
  local_.update_check(id, std::string(status), std::string(output));
  switch (local::check_sync_action(status_changed, true, check_update_interval_ms(),
                                   deferred_.pending(id))) {
    case local::CheckSync::none:
      return;  // already waiting: the deferred sync carries the latest output
    case local::CheckSync::defer:
      // Output-only changes wait (Consul's check_update_interval): a check whose
      // output changes every run must not rewrite the catalog every run.
      defer_check_sync(id);
      return;
    case local::CheckSync::sync_now:
      break;
  }
  // The row goes out whole now: a pending output deferral has nothing left to do.
  if (deferred_.cancel(id)) arm_deferred_timer();
  if (!status_changed) {
    sync_check(id);  // check_update_interval 0: every output change syncs
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

void LocalAgent::defer_check_sync(const std::string& id) {
  uint64_t due = uv_now(loop_) + local::output_defer_ms(check_update_interval_ms(), random_draw());
  if (deferred_.schedule(id, due)) arm_deferred_timer();
}

// One timer for every deferred check, armed for the earliest.
void LocalAgent::arm_deferred_timer() {
  std::optional<uint64_t> next = deferred_.next_due();
  if (!next) {
    deferred_timer_.stop();
    return;
  }
  uint64_t now = uv_now(loop_);
  deferred_timer_.start(*next > now ? *next - now : 0, 0, [this] { sync_due_checks(); });
  deferred_timer_.unref();
}

void LocalAgent::sync_due_checks() {
  for (const std::string& id : deferred_.take_due(uv_now(loop_)))
    if (local_.check(id)) sync_check(id);
  arm_deferred_timer();
}

OpResult LocalAgent::ttl_update(const std::string& id, const std::string& status,
                                std::string output) {
  checks::TtlCheck* ttl = checks_.ttl(id);
  if (!ttl) return OpResult::error(500, "CheckID \"" + id + "\" does not have associated TTL");
  ttl->report(status, output);
  // A TTL report also moves the deadline: keep it for restarts.
  persist_check_state(id);
  return {};
}

void LocalAgent::service_maintenance(const std::string& service_id, bool enable,
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

void LocalAgent::node_maintenance(bool enable, const std::string& reason, OpDone done) {
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

void LocalAgent::restore_persisted() {
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
        log::error("agent", "skipping invalid persisted service",
                   {{"file", path}, {"error", r.message}});
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

std::string LocalAgent::apply_config_definitions(const config::Config& next) {
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

}  // namespace cairn
