#include "agent/local/local_state.h"

namespace cairn::local {

const LocalService* LocalState::service(const std::string& id) const {
  auto it = services_.find(id);
  return it == services_.end() ? nullptr : &it->second;
}

const LocalCheck* LocalState::check(const std::string& id) const {
  auto it = checks_.find(id);
  return it == checks_.end() ? nullptr : &it->second;
}

std::vector<const LocalCheck*> LocalState::checks_of_service(const std::string& service_id) const {
  std::vector<const LocalCheck*> out;
  for (const auto& [_, c] : checks_)
    if (c.check.service_id == service_id) out.push_back(&c);
  return out;
}

void LocalState::put_service(LocalService svc) {
  svc.service.node = node_;
  for (auto& [_, c] : checks_) {
    if (c.check.service_id != svc.service.id) continue;
    c.check.service_name = svc.service.name;
    c.check.service_tags = svc.service.tags;
  }
  std::string id = svc.service.id;
  services_[id] = std::move(svc);
}

std::vector<std::string> LocalState::remove_service(const std::string& id) {
  std::vector<std::string> removed;
  if (services_.erase(id) == 0) return removed;
  for (auto it = checks_.begin(); it != checks_.end();) {
    if (it->second.check.service_id == id) {
      removed.push_back(it->first);
      it = checks_.erase(it);
    } else {
      ++it;
    }
  }
  return removed;
}

void LocalState::put_check(LocalCheck check) {
  check.check.node = node_;
  if (!check.check.service_id.empty()) {
    if (const LocalService* s = service(check.check.service_id)) {
      check.check.service_name = s->service.name;
      check.check.service_tags = s->service.tags;
    }
  }
  std::string id = check.check.check_id;
  checks_[id] = std::move(check);
}

bool LocalState::remove_check(const std::string& id) { return checks_.erase(id) > 0; }

bool LocalState::update_check(const std::string& id, const std::string& status,
                              const std::string& output) {
  auto it = checks_.find(id);
  if (it == checks_.end()) return false;
  state::Check& c = it->second.check;
  if (c.status == status && c.output == output) return false;
  c.status = status;
  c.output = output;
  return true;
}

LocalCheck LocalCheck::from_spec(const std::string& node, const config::CheckSpec& spec,
                                 const state::Service* service, Source source) {
  LocalCheck c;
  c.check = make_check_row(node, spec, service);
  c.token = spec.token;
  c.initial_status = spec.status;
  c.source = source;
  return c;
}

config::CheckSpec LocalCheck::spec() const {
  config::CheckSpec spec;
  spec.id = check.check_id;
  spec.name = check.name;
  spec.notes = check.notes;
  spec.status = initial_status;
  spec.service_id = check.service_id;
  spec.token = token;
  spec.def = check.definition;
  return spec;
}

state::Check make_check_row(const std::string& node, const config::CheckSpec& spec,
                            const state::Service* service) {
  state::Check c;
  c.node = node;
  c.check_id = spec.id.empty() ? spec.name : spec.id;
  c.name = spec.name;
  c.notes = spec.notes;
  c.status = spec.status.empty() ? state::kCritical : spec.status;
  c.service_id = spec.service_id;
  if (service) {
    c.service_name = service->name;
    c.service_tags = service->tags;
  }
  c.type = spec.type();
  c.definition = spec.def;
  return c;
}

}  // namespace cairn::local
