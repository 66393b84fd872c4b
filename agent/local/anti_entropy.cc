#include "agent/local/anti_entropy.h"

#include "agent/state/catalog_ops.h"

namespace cairn::local {

namespace {
bool leader_owned_check(const std::string& id) {
  return id == "serfHealth";
}
bool leader_owned_service(const std::string& id) {
  return id == "consul";
}

// Consul's updateSyncState compares a check whose output is deferred without
// its output: any other difference sends the whole row, output included.
bool differs_only_in_output(const state::Check& catalog, state::Check local) {
  local.output = catalog.output;
  return catalog.same_content(local);
}

// The catalog row for a local check; false for an orphan whose service is going.
bool catalog_check(const state::Store& store, const NodeIdentity& ident, const LocalState& local,
                   const LocalCheck& lc, state::Check& c) {
  c = lc.check;
  c.node = ident.name;
  if (c.service_id.empty()) return true;
  const LocalService* owner = local.service(c.service_id);
  if (!owner) return false;
  c.service_name = owner->service.name;
  c.service_tags = owner->service.tags;
  const state::Service* cur = store.service(ident.name, c.service_id);
  if (owner->service.enable_tag_override && cur) c.service_tags = cur->tags;
  return true;
}
}  // namespace

state::Node node_row(const NodeIdentity& ident) {
  state::Node node;
  node.id = ident.id;
  node.name = ident.name;
  node.address = ident.address;
  node.datacenter = ident.datacenter;
  node.tagged_addresses = ident.tagged_addresses;
  node.meta = ident.meta;
  return node;
}

NodeIdentity identity_of(const state::Node& n) {
  return {n.id, n.name, n.address, n.datacenter, n.tagged_addresses, n.meta};
}

std::string plan_sync(const state::Store& store, const NodeIdentity& ident, const LocalState& local,
                      state::Batch& out, const OutputDeferred& deferred) {
  state::plan_put_node(store, node_row(ident), out);

  // Catalog rows the batch will hold after the service puts (for check copies).
  // A local registration under a leader-owned ID (a client's own "serfHealth"
  // check, say) never replaces the leader's row.
  for (const auto& [id, ls] : local.services()) {
    if (leader_owned_service(id)) continue;
    state::Service svc = ls.service;
    svc.node = ident.name;
    const state::Service* cur = store.service(ident.name, id);
    // EnableTagOverride: tags changed directly in the catalog win.
    if (svc.enable_tag_override && cur) svc.tags = cur->tags;
    state::plan_put_service(store, svc, out);
  }
  for (const state::Service* s : store.services_of_node(ident.name)) {
    if (leader_owned_service(s->id) || local.service(s->id)) continue;
    state::plan_delete_service(store, s->node, s->id, out);
  }

  for (const auto& [id, lc] : local.checks()) {
    if (leader_owned_check(id)) continue;
    state::Check c;
    if (!catalog_check(store, ident, local, lc, c)) continue;
    const state::Check* existing = store.check(ident.name, id);
    if (existing && existing->same_content(c)) continue;
    if (existing && deferred && deferred(id) && differs_only_in_output(*existing, c)) continue;
    // plan_put_service may already have queued this check with new tag copies:
    // the later put wins when the batch is applied in order.
    out.push_back(state::PutCheck{std::move(c)});
  }
  for (const state::Check* c : store.checks_of_node(ident.name)) {
    if (leader_owned_check(c->check_id) || local.check(c->check_id)) continue;
    out.push_back(state::DeleteCheck{c->node, c->check_id});
  }
  return "";
}

bool plan_sync_check(const state::Store& store, const NodeIdentity& ident, const LocalState& local,
                     const std::string& check_id, state::Batch& out) {
  const LocalCheck* lc = local.check(check_id);
  if (!lc || leader_owned_check(check_id)) return true;  // gone: its removal syncs on its own
  if (!store.node(ident.name)) return false;
  if (!lc->check.service_id.empty() && !store.service(ident.name, lc->check.service_id))
    return false;
  state::Check c;
  if (!catalog_check(store, ident, local, *lc, c)) return true;
  const state::Check* existing = store.check(ident.name, check_id);
  if (existing && existing->same_content(c)) return true;
  out.push_back(state::PutCheck{std::move(c)});
  return true;
}

bool plan_check_updates(const state::Store& store, const std::string& node,
                        const std::vector<CheckUpdate>& updates, state::Batch& out) {
  if (!store.node(node)) return false;
  size_t first = out.size();
  for (const CheckUpdate& u : updates) {
    if (leader_owned_check(u.check_id)) continue;
    const state::Check* existing = store.check(node, u.check_id);
    if (!existing) {
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
      return false;
    }
    if (existing->status == u.status && existing->output == u.output) continue;
    state::Check c = *existing;
    c.status = u.status;
    c.output = u.output;
    out.push_back(state::PutCheck{std::move(c)});
  }
  return true;
}

}  // namespace cairn::local
