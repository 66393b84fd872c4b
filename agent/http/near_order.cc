#include "agent/http/near_order.h"

#include "agent/agent.h"
#include "agent/membership.h"

namespace cairn::http_api {

NearOrder::NearOrder(const Agent& agent, const std::string& near) : agent_(agent) {
  if (near.empty()) return;
  const std::string& source = near == "_agent" ? agent.identity().name : near;
  active_ = agent.membership().coordinate_of(source, source_);
}

gossip::Duration NearOrder::distance_to(const std::string& node) const {
  gossip::Coordinate c;
  if (!agent_.membership().coordinate_of(node, c) || !c.compatible(source_))
    return gossip::Duration::max();
  return source_.distance(c);
}

}  // namespace cairn::http_api
