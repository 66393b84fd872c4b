#include "agent/local/deferred_checks.h"

namespace cairn::local {

bool DeferredChecks::schedule(const std::string& id, uint64_t due_ms) {
  if (!due_.emplace(id, due_ms).second) return false;
  queue_.emplace(due_ms, id);
  return true;
}

bool DeferredChecks::cancel(const std::string& id) {
  auto it = due_.find(id);
  if (it == due_.end()) return false;
  queue_.erase({it->second, id});
  due_.erase(it);
  return true;
}

std::optional<uint64_t> DeferredChecks::next_due() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->first;
}

std::vector<std::string> DeferredChecks::take_due(uint64_t now_ms) {
  std::vector<std::string> out;
  while (!queue_.empty() && queue_.begin()->first <= now_ms) {
    auto node = queue_.extract(queue_.begin());
    due_.erase(node.value().second);
    out.push_back(std::move(node.value().second));
  }
  return out;
}

}  // namespace cairn::local
