// Anti-entropy: the difference between this agent's local state and the
// catalog's view of its node, as a batch. Agent state is authoritative:
// missing or changed services and checks are put, extra ones deleted. The
// leader-owned serfHealth check and consul service are left alone.
#pragma once

#include <functional>
#include <vector>

#include "agent/local/local_state.h"
#include "agent/state/mutation.h"
#include "agent/state/store.h"

namespace cairn::local {

struct NodeIdentity {
  std::string id;
  std::string name;
  std::string address;
  std::string datacenter;
  std::map<std::string, std::string> tagged_addresses;
  std::map<std::string, std::string> meta;
};

// The catalog row of this agent's node, and back.
state::Node node_row(const NodeIdentity& ident);
NodeIdentity identity_of(const state::Node& node);

// Whether a check's output is waiting for check_update_interval: a full sync
// then leaves the catalog's output as it is (Consul's updateSyncState ignores
// the output of a check whose defer timer runs), so that the periodic pass does
// not undo the rate limit.
using OutputDeferred = std::function<bool(const std::string& check_id)>;

std::string plan_sync(const state::Store& store, const NodeIdentity& node, const LocalState& local,
                      state::Batch& out, const OutputDeferred& deferred = {});

// The write for one local check whose status changed, without walking every
// service and check (an agent may run 10,000). Returns false when the node
// or the check's service is not in the catalog yet: run plan_sync instead.
bool plan_sync_check(const state::Store& store, const NodeIdentity& node, const LocalState& local,
                     const std::string& check_id, state::Batch& out);

// A check's new result, as a client sends it when only results changed.
struct CheckUpdate {
  std::string check_id;
  std::string status;
  std::string output;
};

// Sets the status and output of checks the catalog already holds for node,
// touching nothing else (the leader-owned serfHealth is skipped). False when
// the node or one of the checks is missing: the sender must send its whole
// state instead (plan_sync), and out is left empty.
bool plan_check_updates(const state::Store& store, const std::string& node,
                        const std::vector<CheckUpdate>& updates, state::Batch& out);

}  // namespace cairn::local
