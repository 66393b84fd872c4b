// This agent's own services and checks: the authority that anti-entropy
// copies into the catalog. A plain container; the Agent coordinates
// persistence, check runners and syncing around its changes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/config/service_definition.h"
#include "agent/state/rows.h"

namespace cairn::local {

// Where a definition came from: config files are re-read at start and on
// reload; API registrations are persisted in the data dir.
enum class Source { config, api };

struct LocalService {
  state::Service service;
  Source source = Source::api;
  config::ServiceDefinition definition;  // as registered, for persistence (checks kept apart)
};

// A check of this agent. The catalog row holds the registration's ID, name,
// notes, service and (shared) definition; only what the row lacks is kept
// beside it, and the spec is rebuilt from both when it is needed (to persist
// the check or start its runner) instead of being stored twice per check.
struct LocalCheck {
  state::Check check;          // the row as it will appear in the catalog
  std::string token;           // the registration's token, persisted with it
  std::string initial_status;  // the registration's Status ("" = critical), persisted with it
  Source source = Source::api;

  // The check for a registration on this node (service: the one it belongs to, if any).
  static LocalCheck from_spec(const std::string& node, const config::CheckSpec& spec,
                              const state::Service* service, Source source);
  // The registration as it was given.
  config::CheckSpec spec() const;
};

class LocalState {
 public:
  explicit LocalState(std::string node_name) : node_(std::move(node_name)) {}

  const std::string& node() const { return node_; }
  const std::map<std::string, LocalService>& services() const { return services_; }
  const std::map<std::string, LocalCheck>& checks() const { return checks_; }
  const LocalService* service(const std::string& id) const;
  const LocalCheck* check(const std::string& id) const;
  std::vector<const LocalCheck*> checks_of_service(const std::string& service_id) const;

  // Adds or replaces; the service's checks get its current name and tags.
  void put_service(LocalService svc);
  // Removes the service and returns the IDs of the checks that went with it.
  std::vector<std::string> remove_service(const std::string& id);
  void put_check(LocalCheck check);
  bool remove_check(const std::string& id);
  // Returns true when status or output changed.
  bool update_check(const std::string& id, const std::string& status, const std::string& output);

 private:
  std::string node_;
  std::map<std::string, LocalService> services_;
  std::map<std::string, LocalCheck> checks_;
};

// Builds the catalog row for a check spec attached to this node.
state::Check make_check_row(const std::string& node, const config::CheckSpec& spec,
                            const state::Service* service);

}  // namespace cairn::local
