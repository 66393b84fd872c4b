#include "agent/checks/alias_check.h"

#include "agent/checks/go_text.h"

namespace cairn::checks {

namespace {
const std::string kNone;
}  // namespace

AliasCheck::AliasCheck(CheckEnv& env, std::string id, const state::CheckDefinition& def)
    : CheckRunner(std::move(id)),
      env_(env),
      node_(def.alias_node.empty() ? env.node_name : def.alias_node),
      service_id_(def.alias_service),
      timer_(env.loop) {
  schedule();  // Consul evaluates at once; here on the next loop turn
}

AliasCheck::~AliasCheck() {
  if (watch_ && env_.store) env_.store->unwatch(watch_);
}

void AliasCheck::schedule() {
  watch_ = 0;
  if (!timer_.active()) timer_.start(0, 0, [this] { update(); });
}

void AliasCheck::update() {
  if (!env_.store) return;
  const state::Store& store = *env_.store;
  // Our own row only exists on our node.
  const std::string& self = state::lower(node_) == state::lower(env_.node_name) ? id_ : kNone;
  std::string_view status = evaluate(store, node_, service_id_, self, output_);
  // Re-arm before reporting: the report itself changes the catalog.
  watch_ = store.watch({state::node_key(node_)}, [this] { schedule(); });
  env_.sink(id_, status, output_);
}

std::string_view AliasCheck::evaluate(const state::Store& store, const std::string& node,
                                      const std::string& service_id, const std::string& self_id,
                                      std::string& output) {
  std::string_view health = state::kPassing;
  output = "No checks found.";
  bool service_found = false;
  for (const state::Check* c : store.checks_of_node(node)) {
    if (!self_id.empty() && c->check_id == self_id) continue;  // never mirror ourselves
    bool service_match = c->service_id == service_id;
    if (!c->service_id.empty() && !service_match) continue;
    if (service_match) service_found = true;
    if (c->status == state::kCritical || c->status == state::kWarning) {
      health = c->status == state::kCritical ? state::kCritical : state::kWarning;
      output = "Aliased check " + go_quote(c->name) + " failing: " + c->output;
      if (health == state::kCritical) break;  // nothing is worse
    } else if (health == state::kPassing) {
      output = "All checks passing.";
    }
  }
  if (!service_found && !store.service(node, service_id)) {
    output = "Service " + service_id + " could not be found on node " + node;
    health = state::kCritical;
  }
  return health;
}

}  // namespace cairn::checks
