#include "agent/state/catalog_txn.h"

#include <set>

#include "common/random.h"

namespace cairn::state {

bool parse_catalog_verb(const std::string& name, CatalogVerb& out) {
  static const std::map<std::string, CatalogVerb> verbs = {
      {"get", CatalogVerb::get},
      {"set", CatalogVerb::set},
      {"cas", CatalogVerb::cas},
      {"delete", CatalogVerb::del},
      {"delete-cas", CatalogVerb::delete_cas},
  };
  auto it = verbs.find(name);
  if (it == verbs.end()) return false;
  out = it->second;
  return true;
}

namespace {

// Go's %q for the plain names these messages carry.
std::string catalog_quoted(const std::string& s) {
  return "\"" + s + "\"";
}

TxnPlan::Report row_report(size_t op_index, TxnPlan::Report::Kind kind, const std::string& node,
                           const std::string& id) {
  TxnPlan::Report r{op_index, id, false, false, false};
  r.kind = kind;
  r.node = node;
  return r;
}

// A compare-and-set index that does not hold: 0 means "only if absent", any
// other index must be the row's own. A row this transaction already wrote
// never matches (its new index is not known yet).
bool cas_stale(uint64_t want, const RaftIndex* cur, bool written_here) {
  if (want == 0) return cur != nullptr;
  return cur == nullptr || written_here || cur->modify_index != want;
}

}  // namespace

// ---- reads through the transaction's writes --------------------------------

const Node* CatalogTxnPlanner::node(const std::string& name) const {
  auto it = nodes_.find(lower(name));
  if (it != nodes_.end()) return it->second ? &*it->second : nullptr;
  return store_.node(name);
}

const Node* CatalogTxnPlanner::node_with_id(const std::string& id) const {
  std::string lc_id = lower(id);
  for (const auto& [name, n] : nodes_)
    if (n && lower(n->id) == lc_id) return &*n;
  for (const auto& [name, n] : store_.nodes())
    if (!nodes_.contains(name) && lower(n.id) == lc_id) return &n;
  return nullptr;
}

const Service* CatalogTxnPlanner::service(const std::string& node, const std::string& id) const {
  auto it = services_.find({lower(node), id});
  if (it != services_.end()) return it->second ? &*it->second : nullptr;
  return store_.service(node, id);
}

const Check* CatalogTxnPlanner::check(const std::string& node, const std::string& id) const {
  auto it = checks_.find({lower(node), id});
  if (it != checks_.end()) return it->second ? &*it->second : nullptr;
  return store_.check(node, id);
}

std::vector<std::string> CatalogTxnPlanner::service_ids(const std::string& node) const {
  std::string lc = lower(node);
  std::set<std::string> ids;
  for (const Service* s : store_.services_of_node(node))
    if (!services_.contains({lc, s->id})) ids.insert(s->id);
  for (auto it = services_.lower_bound({lc, ""}); it != services_.end() && it->first.first == lc;
       ++it)
    if (it->second) ids.insert(it->first.second);
  return {ids.begin(), ids.end()};
}

std::vector<std::string> CatalogTxnPlanner::check_ids(
    const std::string& node, const std::optional<std::string>& service_id) const {
  std::string lc = lower(node);
  auto wanted = [&](const Check& c) { return !service_id || c.service_id == *service_id; };
  std::set<std::string> ids;
  for (const Check* c : store_.checks_of_node(node))
    if (!checks_.contains({lc, c->check_id}) && wanted(*c)) ids.insert(c->check_id);
  for (auto it = checks_.lower_bound({lc, ""}); it != checks_.end() && it->first.first == lc; ++it)
    if (it->second && wanted(*it->second)) ids.insert(it->first.second);
  return {ids.begin(), ids.end()};
}

// ---- writes ------------------------------------------------------------------

void CatalogTxnPlanner::put_node(const Node& n, Batch& out) {
  const Node* cur = node(n.name);
  if (cur && cur->same_content(n)) return;
  out.push_back(PutNode{n});
  nodes_[lower(n.name)] = n;
}

void CatalogTxnPlanner::delete_node(const std::string& name, Batch& out) {
  const Node* cur = node(name);
  if (!cur) return;
  std::string canonical = cur->name;
  // A node takes its checks and services with it, as a deregistration does.
  for (const auto& id : check_ids(canonical, std::nullopt)) delete_check(canonical, id, out);
  for (const auto& id : service_ids(canonical)) delete_service(canonical, id, out);
  out.push_back(DeleteNode{canonical});
  nodes_[lower(canonical)] = std::nullopt;
}

void CatalogTxnPlanner::put_service(const Service& s, Batch& out) {
  const Service* cur = service(s.node, s.id);
  if (cur && cur->same_content(s)) return;
  out.push_back(PutService{s});
  services_[{lower(s.node), s.id}] = s;
  // Checks carry a copy of their service's name and tags.
  for (const auto& id : check_ids(s.node, s.id)) {
    Check c = *check(s.node, id);
    if (c.service_name == s.name && c.service_tags == s.tags) continue;
    c.service_name = s.name;
    c.service_tags = s.tags;
    put_check(c, out);
  }
}

void CatalogTxnPlanner::delete_service(const std::string& node, const std::string& id, Batch& out) {
  const Service* cur = service(node, id);
  if (!cur) return;
  std::string canonical = cur->node;
  for (const auto& check_id : check_ids(canonical, id)) delete_check(canonical, check_id, out);
  out.push_back(DeleteService{canonical, id});
  services_[{lower(canonical), id}] = std::nullopt;
}

void CatalogTxnPlanner::put_check(const Check& c, Batch& out) {
  const Check* cur = check(c.node, c.check_id);
  if (cur && cur->same_content(c)) return;
  out.push_back(PutCheck{c});
  checks_[{lower(c.node), c.check_id}] = c;
}

void CatalogTxnPlanner::delete_check(const std::string& node, const std::string& id, Batch& out) {
  const Check* cur = check(node, id);
  if (!cur) return;
  std::string canonical = cur->node;
  out.push_back(DeleteCheck{canonical, id});
  checks_[{lower(canonical), id}] = std::nullopt;
}

// ---- the verbs -----------------------------------------------------------------

std::string CatalogTxnPlanner::set_node(const NodeTxnOp& op, Batch& out) {
  Node n = op.node;
  n.raft = {};
  if (n.name.empty()) return "Must provide node";
  if (!n.id.empty() && !is_uuid(n.id)) return "Invalid node ID: " + catalog_quoted(n.id);
  if (!n.id.empty()) {
    // Two nodes may not share an ID, as in a catalog registration.
    const Node* other = node_with_id(n.id);
    if (other && lower(other->name) != lower(n.name))
      return "failed inserting node: Error while renaming Node ID: " + catalog_quoted(n.id) +
             ": Node name " + other->name + " is reserved by node " + other->id + " with name " +
             other->name;
  }
  const Node* existing = node(n.name);
  if (n.id.empty() && existing) n.id = existing->id;
  put_node(n, out);
  return "";
}

std::string CatalogTxnPlanner::set_service(const ServiceTxnOp& op, Service& stored, Batch& out) {
  Service s = op.service;
  s.raft = {};
  if (s.id.empty()) s.id = s.name;
  if (s.name.empty())
    return s.id.empty() ? "Must provide service name" : "Must provide service name with ID";
  if (s.address == "0.0.0.0" || s.address == "::" || s.address == "[::]")
    return "Invalid service address";
  const Node* n = node(op.node);
  if (!n) return "Missing node registration";
  s.node = n->name;
  // The Go client always sends Weights; its zero value means the defaults.
  if (s.weights.passing <= 0) s.weights = Weights{};
  put_service(s, out);
  stored = std::move(s);
  return "";
}

std::string CatalogTxnPlanner::set_check(const CheckTxnOp& op, Check& stored, Batch& out) {
  Check c = op.check;
  c.raft = {};
  if (c.check_id.empty()) c.check_id = c.name;
  if (c.check_id.empty()) return "Must provide a CheckID or Name for the check";
  if (c.status.empty()) c.status = kCritical;
  if (!is_valid_status(c.status)) return "Invalid check status: " + catalog_quoted(c.status);
  const Node* n = node(c.node);
  if (!n) return "Missing node registration";
  c.node = n->name;
  if (!c.service_id.empty()) {
    const Service* owner = service(c.node, c.service_id);
    if (!owner) return "Missing service registration";
    c.service_name = owner->name;
    c.service_tags = owner->tags;
  } else {
    c.service_name.clear();
    c.service_tags.clear();
  }
  put_check(c, out);
  stored = std::move(c);
  return "";
}

void CatalogTxnPlanner::plan(size_t i, const NodeTxnOp& op, TxnPlan& plan) {
  using Kind = TxnPlan::Report::Kind;
  const Node& want = op.node;
  auto fail = [&](std::string what, bool condition) {
    plan.errors.push_back({i, std::move(what), condition});
  };
  const Node* cur = nullptr;
  switch (op.verb) {
    case CatalogVerb::get:
      cur = want.id.empty() ? node(want.name) : node_with_id(want.id);
      if (!cur) return fail("node " + catalog_quoted(want.name) + " doesn't exist", true);
      plan.reports.push_back(row_report(i, Kind::node, cur->name, ""));
      return;
    case CatalogVerb::cas:
      cur = node(want.name);
      if (cas_stale(want.raft.modify_index, cur ? &cur->raft : nullptr, written(want.name)))
        return fail("failed to set node " + catalog_quoted(want.name) + ", index is stale", true);
      [[fallthrough]];
    case CatalogVerb::set:
      if (std::string e = set_node(op, plan.batch); !e.empty()) return fail(e, false);
      plan.reports.push_back(row_report(i, Kind::node, want.name, ""));
      return;
    case CatalogVerb::delete_cas:
      cur = node(want.name);
      if (!cur || cas_stale(want.raft.modify_index, &cur->raft, written(want.name)))
        return fail("failed to delete node " + catalog_quoted(want.name) + ", index is stale",
                    true);
      [[fallthrough]];
    case CatalogVerb::del:
      delete_node(want.name, plan.batch);
      return;
  }
}

void CatalogTxnPlanner::plan(size_t i, const ServiceTxnOp& op, TxnPlan& plan) {
  using Kind = TxnPlan::Report::Kind;
  std::string id = op.service.id.empty() ? op.service.name : op.service.id;
  RowKey key{lower(op.node), id};
  auto fail = [&](std::string what, bool condition) {
    plan.errors.push_back({i, std::move(what), condition});
  };
  auto where = [&] { return catalog_quoted(id) + " on node " + catalog_quoted(op.node); };
  const Service* cur = nullptr;
  Service stored;
  switch (op.verb) {
    case CatalogVerb::get:
      cur = service(op.node, id);
      if (!cur) return fail("service " + where() + " doesn't exist", true);
      plan.reports.push_back(row_report(i, Kind::service, cur->node, id));
      return;
    case CatalogVerb::cas:
      cur = service(op.node, id);
      if (cas_stale(op.service.raft.modify_index, cur ? &cur->raft : nullptr, written(key, true)))
        return fail("failed to set service " + where() + ", index is stale", true);
      [[fallthrough]];
    case CatalogVerb::set:
      if (std::string e = set_service(op, stored, plan.batch); !e.empty()) return fail(e, false);
      plan.reports.push_back(row_report(i, Kind::service, stored.node, stored.id));
      return;
    case CatalogVerb::delete_cas:
      cur = service(op.node, id);
      if (!cur || cas_stale(op.service.raft.modify_index, &cur->raft, written(key, true)))
        return fail("failed to delete service " + where() + ", index is stale", true);
      [[fallthrough]];
    case CatalogVerb::del:
      delete_service(op.node, id, plan.batch);
      return;
  }
}

void CatalogTxnPlanner::plan(size_t i, const CheckTxnOp& op, TxnPlan& plan) {
  using Kind = TxnPlan::Report::Kind;
  const Check& want = op.check;
  std::string id = want.check_id.empty() ? want.name : want.check_id;
  RowKey key{lower(want.node), id};
  auto fail = [&](std::string what, bool condition) {
    plan.errors.push_back({i, std::move(what), condition});
  };
  auto where = [&] { return catalog_quoted(id) + " on node " + catalog_quoted(want.node); };
  const Check* cur = nullptr;
  Check stored;
  switch (op.verb) {
    case CatalogVerb::get:
      cur = check(want.node, id);
      if (!cur) return fail("check " + where() + " doesn't exist", true);
      plan.reports.push_back(row_report(i, Kind::check, cur->node, id));
      return;
    case CatalogVerb::cas:
      cur = check(want.node, id);
      if (cas_stale(want.raft.modify_index, cur ? &cur->raft : nullptr, written(key, false)))
        return fail("failed to set check " + where() + ", index is stale", true);
      [[fallthrough]];
    case CatalogVerb::set:
      if (std::string e = set_check(op, stored, plan.batch); !e.empty()) return fail(e, false);
      plan.reports.push_back(row_report(i, Kind::check, stored.node, stored.check_id));
      return;
    case CatalogVerb::delete_cas:
      cur = check(want.node, id);
      if (!cur || cas_stale(want.raft.modify_index, &cur->raft, written(key, false)))
        return fail("failed to delete check " + where() + ", index is stale", true);
      [[fallthrough]];
    case CatalogVerb::del:
      delete_check(want.node, id, plan.batch);
      return;
  }
}

}  // namespace cairn::state
