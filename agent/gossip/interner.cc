#include "agent/gossip/interner.h"

namespace cairn::gossip {

Interner::Interner() {
  intern("");
}

Interner::Id Interner::intern(std::string_view s) {
  if (auto it = index_.find(s); it != index_.end()) return it->second;
  const Id id = static_cast<Id>(strings_.size());
  strings_.emplace_back(s);
  index_.emplace(strings_.back(), id);
  return id;
}

Interner::Id Interner::find(std::string_view s) const {
  auto it = index_.find(s);
  return it == index_.end() ? kNone : it->second;
}

}  // namespace cairn::gossip
