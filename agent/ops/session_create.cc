#include "agent/ops/session_create.h"

#include "agent/state/input_limits.h"

namespace cairn::ops {

namespace {

constexpr const char* kSerfHealth = "serfHealth";

state::LimitCheck session_limits(const state::Session& s) {
  if (auto e = state::check_identifier("Name", s.name)) return e;
  if (auto e = state::check_identifier("Node", s.node)) return e;
  size_t checks = s.node_checks.size() + s.service_checks.size();
  if (checks > state::kMaxSessionChecks)
    return state::LimitError{"session_checks", "Checks: " + std::to_string(checks) +
                                                   " checks are too many for one session, max: " +
                                                   std::to_string(state::kMaxSessionChecks)};
  for (const auto& id : s.node_checks)
    if (auto e = state::check_identifier("NodeChecks", id)) return e;
  for (const auto& ref : s.service_checks)
    if (auto e = state::check_identifier("ServiceChecks", ref.id)) return e;
  return std::nullopt;
}

}  // namespace

OpCheck validate_session_create(state::Session& s, bool node_checks_given,
                                const SessionDefaults& defaults) {
  // The node default comes first: its name is bounded like a given one.
  if (s.node.empty()) s.node = defaults.node;
  if (auto e = session_limits(s)) return limit_refused(*e);
  if (!node_checks_given) s.node_checks = {kSerfHealth};
  // Consul's RPC treats an empty Behavior as the default, release.
  if (s.behavior.empty()) s.behavior = state::kBehaviorRelease;
  if (s.behavior != state::kBehaviorRelease && s.behavior != state::kBehaviorDelete)
    return invalid_input("Invalid Behavior setting '" + s.behavior + "'");
  if (s.ttl != 0 && (s.ttl < defaults.ttl_min || s.ttl > state::kSessionTTLMax))
    return invalid_input("Invalid Session TTL '" + format_duration(s.ttl) + "', must be between [" +
                         format_duration(defaults.ttl_min) + "=" +
                         format_duration(state::kSessionTTLMax) + "]");
  return std::nullopt;
}

}  // namespace cairn::ops
