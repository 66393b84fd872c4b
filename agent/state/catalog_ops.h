// Plans catalog writes (/v1/catalog/register and /deregister, and the agent's
// anti-entropy pushes) as row mutations, validated against the current store.
//
// Planning is pure: it reads the store and returns a batch or an error. Rows
// that would not change are left out, so a repeated registration does not bump
// indexes or wake blocking queries.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/state/mutation.h"
#include "agent/state/store.h"

namespace cairn::state {

struct RegisterRequest {
  std::string id;
  std::string node;
  std::string address;
  std::string datacenter;
  std::map<std::string, std::string> tagged_addresses;
  std::map<std::string, std::string> node_meta;
  std::optional<Service> service;
  std::vector<Check> checks;
  bool skip_node_update = false;
};

struct DeregisterRequest {
  std::string node;
  std::string service_id;
  std::string check_id;
};

// Returns an error message (Consul's wording where clients match on it), or "".
std::string plan_register(const Store& store, const RegisterRequest& req, Batch& out);
std::string plan_deregister(const Store& store, const DeregisterRequest& req, Batch& out);

// Adds a put for the node row unless the store already holds the same content.
void plan_put_node(const Store& store, const Node& node, Batch& out);
// Adds a put for the service (and refreshes the service name/tags copied into its
// checks) unless nothing changed.
void plan_put_service(const Store& store, const Service& svc, Batch& out);
void plan_put_check(const Store& store, const Check& check, Batch& out);
// Deletes a service and its checks.
void plan_delete_service(const Store& store, const std::string& node, const std::string& id,
                         Batch& out);
// Deletes a node with everything on it.
void plan_delete_node(const Store& store, const std::string& node, Batch& out);

}  // namespace cairn::state
