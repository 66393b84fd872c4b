#include "agent/checks/check_manager.h"

namespace cairn::checks {

void CheckManager::start(const std::string& id, const config::CheckSpec& spec,
                         uint64_t ttl_expires_in_ms) {
  runners_.erase(id);
  std::string type = spec.type();
  if (type == "ttl") {
    runners_[id] = std::make_unique<TtlCheck>(loop_, id, spec.def.ttl, sink_, ttl_expires_in_ms);
  }
  // Other check types keep their registered status until their runners exist.
}

void CheckManager::stop(const std::string& id) { runners_.erase(id); }

TtlCheck* CheckManager::ttl(const std::string& id) {
  auto it = runners_.find(id);
  if (it == runners_.end()) return nullptr;
  return dynamic_cast<TtlCheck*>(it->second.get());
}

}  // namespace cairn::checks
