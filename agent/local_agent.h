// This host's services and checks: the local state, its persistence in the
// data dir, the check runners and anti-entropy with the catalog. It carries
// out the operations the agent API and the config files ask for (register,
// deregister, TTL reports, maintenance) and owns nothing else; the Agent
// composes it with the catalog writer and store it syncs to.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "agent/checks/check_manager.h"
#include "agent/config/config.h"
#include "agent/local/anti_entropy.h"
#include "agent/local/deferred_checks.h"
#include "agent/local/local_state.h"
#include "agent/local/persister.h"
#include "agent/op_result.h"
#include "agent/server/catalog_writer.h"
#include "agent/state/store.h"
#include "common/uv_handle.h"

namespace cairn {

struct UserEvent;

class LocalAgent {
 public:
  // cfg and identity belong to the caller and outlive this; cfg is read at
  // each operation (reload updates it in place). Catalog writes go to writer,
  // which applies them to store.
  LocalAgent(uv_loop_t* loop, const config::Config& cfg, const local::NodeIdentity& identity,
             server::CatalogWriter& writer, const state::Store& store);
  LocalAgent(const LocalAgent&) = delete;
  LocalAgent& operator=(const LocalAgent&) = delete;

  // Restores persisted services and checks, applies the config's definitions,
  // starts their checks and pushes the result to the catalog. "" or the error
  // that should stop the process.
  std::string load();
  // The periodic full anti-entropy pass: every minute plus a random stagger
  // that grows with the cluster (local/sync_timing.h), re-drawn each pass.
  // cluster_size gives the LAN member count at each pass.
  void start_periodic_sync(std::function<size_t()> cluster_size);
  // Stops the checks and the sync timer; flushes persistence.
  void shutdown();

  const local::LocalState& state() const { return local_; }

  // Operations. done runs once the change is applied and, for API
  // registrations, persisted to the data dir.
  void register_service(config::ServiceDefinition def, local::Source source,
                        bool replace_existing_checks, OpDone done);
  void deregister_service(const std::string& id, OpDone done);
  void register_check(config::CheckSpec spec, local::Source source, OpDone done);
  void deregister_check(const std::string& id, OpDone done);
  // TTL reports: the 500 text clients match on when the check is not a TTL check.
  OpResult ttl_update(const std::string& id, const std::string& status, std::string output);
  void service_maintenance(const std::string& service_id, bool enable, const std::string& reason,
                           OpDone done);
  void node_maintenance(bool enable, const std::string& reason, OpDone done);

  // Whether a check may run here (its spec is runnable; scripts are enabled).
  OpResult check_allowed(const config::CheckSpec& spec, local::Source source) const;
  // Brings the config-defined services and checks in line with next. "" or
  // the error, naming the definition's file and line.
  std::string apply_config_definitions(const config::Config& next);
  // Pushes all local services and checks to the catalog (anti-entropy).
  void sync_catalog();
  // Run after every sync to the local catalog, so that a client agent pushes
  // the same to the servers (agent/forward/catalog_push.h): full after a full
  // sync, check(id) after a sync of one check's result.
  void set_sync_listener(std::function<void()> full,
                         std::function<void(const std::string&)> check) {
    full_sync_listener_ = std::move(full);
    check_sync_listener_ = std::move(check);
  }
  // Whether check id's output is waiting for check_update_interval.
  bool output_deferred(const std::string& id) const { return deferred_.pending(id); }
  // Whether a user event's node, service and tag filters select this agent.
  bool event_matches_this_agent(const UserEvent& ev) const;

 private:
  bool is_server() const { return cfg_.server || cfg_.dev; }
  void on_check_result(const std::string& id, std::string_view status, std::string_view output);
  // Pushes one check's row at once (a status change); falls back to a full sync.
  void sync_check(const std::string& id);
  // Output-only changes: hold id back for check_update_interval, then sync it.
  void defer_check_sync(const std::string& id);
  void arm_deferred_timer();
  void sync_due_checks();
  void full_sync_pass();
  uint64_t check_update_interval_ms() const;
  // What plan_sync asks: whether a check's output waits (deferred_).
  local::OutputDeferred deferred_outputs() const;
  double random_draw();
  void persist_service(const local::LocalService& svc, OpDone done);
  void persist_check(const local::LocalCheck& check, OpDone done);
  void persist_check_state(const std::string& id);
  void restore_persisted();
  OpResult add_service_locally(config::ServiceDefinition def, local::Source source,
                               bool replace_existing_checks, std::vector<local::LocalCheck>* added,
                               std::string* id_out);
  void start_check(const local::LocalCheck& c);
  // The local check for spec (of service svc, or none), keeping the current
  // result of an unchanged re-registration.
  local::LocalCheck make_local_check(const config::CheckSpec& spec, local::Source source,
                                     const state::Service* svc) const;

  uv_loop_t* loop_;
  const config::Config& cfg_;
  const local::NodeIdentity& identity_;
  server::CatalogWriter& writer_;
  local::LocalState local_;
  local::Persister persister_;
  checks::CheckManager checks_;
  Timer sync_timer_;
  std::function<size_t()> cluster_size_;
  local::DeferredChecks deferred_;
  Timer deferred_timer_;
  std::mt19937_64 random_{std::random_device{}()};
  std::function<void()> full_sync_listener_;
  std::function<void(const std::string&)> check_sync_listener_;
  std::map<std::string, uint64_t> restored_ttl_ms_;  // TTL deadlines read at start
};

}  // namespace cairn
