#include "agent/user_event_filter.h"

namespace cairn {

std::string UserEventFilterError::message() const {
  const char* what = field == Field::node      ? "Invalid node filter: "
                     : field == Field::service ? "Invalid service filter: "
                                               : "Invalid tag filter: ";
  return what + regex.message;
}

std::optional<UserEventFilter> UserEventFilter::compile(const UserEvent& event,
                                                        UserEventFilterError& error) {
  UserEventFilter out;
  using Field = UserEventFilterError::Field;
  const std::pair<const std::string*, Field> filters[] = {
      {&event.node_filter, Field::node},
      {&event.service_filter, Field::service},
      {&event.tag_filter, Field::tag},
  };
  std::unique_ptr<const Regex>* slots[] = {&out.node_, &out.service_, &out.tag_};
  for (size_t i = 0; i < 3; ++i) {
    const std::string& pattern = *filters[i].first;
    if (pattern.empty()) continue;
    *slots[i] = Regex::compile(pattern, error.regex);
    if (!*slots[i]) {
      error.field = filters[i].second;
      return std::nullopt;
    }
  }
  return std::optional<UserEventFilter>(std::move(out));
}

bool UserEventFilter::matches(std::string_view node_name,
                              const std::map<std::string, local::LocalService>& services) const {
  if (node_ && !node_->search(node_name)) return false;
  if (!service_) return true;
  // As Consul: the service filter is matched against the IDs of this agent's services.
  for (const auto& [id, s] : services) {
    if (!service_->search(id)) continue;
    if (!tag_) return true;
    for (const std::string& tag : s.service.tags)
      if (tag_->search(tag)) return true;
  }
  return false;
}

}  // namespace cairn
