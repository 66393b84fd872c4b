// Consul's user-event filters: an event fired with ?node=, ?service= or ?tag= is delivered
// only to agents whose node name matches the node regex and that run a service whose ID
// matches the service regex (with a tag matching the tag regex, if one is given).
//
// The regexes come from any HTTP client and, through gossip, from any member: they are
// compiled once per event with common/regex.h (RE2, linear-time matching), never per match.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/local/local_state.h"
#include "agent/membership.h"
#include "common/regex.h"

namespace cairn {

struct UserEventFilterError {
  enum class Field : uint8_t { node, service, tag };
  Field field = Field::node;
  RegexError regex;
  // Consul's wording: "Invalid node filter: error parsing regexp: missing closing ): `(a`".
  std::string message() const;
};

class UserEventFilter {
 public:
  // Compiles the event's filters. On an invalid pattern returns nullopt and fills error.
  static std::optional<UserEventFilter> compile(const UserEvent& event,
                                                UserEventFilterError& error);

  // Whether an agent with this node name and these local services should see the event.
  bool matches(std::string_view node_name,
               const std::map<std::string, local::LocalService>& services) const;

 private:
  std::unique_ptr<const Regex> node_, service_, tag_;  // null where the event has no filter
};

}  // namespace cairn
