// Alias check: mirrors the health of another service instance (AliasService,
// by ID) and/or a node (AliasNode; this node when not given), as Consul's
// CheckAlias: critical if any mirrored check is critical, else warning if
// any is warning, else passing; critical when the service is not there.
//
// It reads the state store and watches the mirrored node's key, so it reacts
// to every change of what it mirrors. Store watches are one-shot: each
// evaluation re-arms one. Evaluations run from a zero timer, never inside
// the store's apply, and a burst of changes costs one evaluation.
#pragma once

#include <string>

#include "agent/checks/check_runner.h"
#include "agent/state/rows.h"
#include "agent/state/store.h"
#include "common/uv_handle.h"

namespace cairn::checks {

class AliasCheck : public CheckRunner {
 public:
  AliasCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def);
  ~AliasCheck() override;

  // The status and output for what a node holds, pure (Consul's processChecks).
  // Checks of other service instances are ignored; node-level checks count;
  // self_id (this alias check, when it lives on that node) is skipped.
  static std::string_view evaluate(const state::Store& store, const std::string& node,
                                   const std::string& service_id, const std::string& self_id,
                                   std::string& output);

 private:
  void schedule();
  void update();

  CheckEnv& env_;
  std::string node_;
  std::string service_id_;
  Timer timer_;
  state::Store::WatchId watch_ = 0;
  std::string output_;
};

}  // namespace cairn::checks
