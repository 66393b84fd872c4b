#include "agent/state/catalog_ops.h"

#include "common/random.h"

namespace cairn::state {

void plan_put_node(const Store& store, const Node& node, Batch& out) {
  const Node* cur = store.node(node.name);
  if (cur && cur->same_content(node)) return;
  out.push_back(PutNode{node});
}

void plan_put_service(const Store& store, const Service& svc, Batch& out) {
  const Service* cur = store.service(svc.node, svc.id);
  if (cur && cur->same_content(svc)) return;
  out.push_back(PutService{svc});
  // Checks carry a copy of their service's name and tags.
  for (const Check* c : store.instance_checks(svc.node, svc.id)) {
    if (c->service_name == svc.name && c->service_tags == svc.tags) continue;
    Check updated = *c;
    updated.service_name = svc.name;
    updated.service_tags = svc.tags;
    out.push_back(PutCheck{std::move(updated)});
  }
}

void plan_put_check(const Store& store, const Check& check, Batch& out) {
  const Check* cur = store.check(check.node, check.check_id);
  if (cur && cur->same_content(check)) return;
  out.push_back(PutCheck{check});
}

void plan_delete_service(const Store& store, const std::string& node, const std::string& id,
                         Batch& out) {
  if (!store.service(node, id)) return;
  for (const Check* c : store.instance_checks(node, id))
    out.push_back(DeleteCheck{c->node, c->check_id});
  out.push_back(DeleteService{node, id});
}

void plan_delete_node(const Store& store, const std::string& node, Batch& out) {
  if (!store.node(node)) return;
  for (const Check* c : store.checks_of_node(node)) out.push_back(DeleteCheck{c->node, c->check_id});
  for (const Service* s : store.services_of_node(node)) out.push_back(DeleteService{s->node, s->id});
  out.push_back(DeleteNode{node});
}

std::string plan_register(const Store& store, const RegisterRequest& req, Batch& out) {
  if (req.node.empty()) return "Must provide node";
  if (req.address.empty() && !req.skip_node_update) return "Must provide address";
  if (!req.id.empty() && !is_uuid(req.id)) return "Invalid node ID: \"" + req.id + "\"";
  if (!req.id.empty()) {
    // Two nodes may not share an ID (Consul refuses the rename).
    for (const auto& [_, n] : store.nodes())
      if (lower(n.id) == lower(req.id) && lower(n.name) != lower(req.node))
        return "failed inserting node: Error while renaming Node ID: \"" + req.id +
               "\": Node name " + n.name + " is reserved by node " + n.id + " with name " + n.name;
  }

  const Node* existing = store.node(req.node);
  std::string node_name = existing ? existing->name : req.node;
  if (!req.skip_node_update || !existing) {
    Node n;
    n.id = req.id.empty() && existing ? existing->id : req.id;
    n.name = req.node;
    n.address = req.address;
    n.datacenter = req.datacenter;
    n.tagged_addresses = req.tagged_addresses;
    n.meta = req.node_meta;
    node_name = n.name;
    plan_put_node(store, n, out);
  }

  std::optional<Service> svc = req.service;
  if (svc) {
    if (svc->name.empty()) return "Must provide service name";
    if (svc->id.empty()) svc->id = svc->name;
    svc->node = node_name;
    plan_put_service(store, *svc, out);
  }

  for (Check c : req.checks) {
    c.node = node_name;
    if (c.check_id.empty()) c.check_id = c.name;
    if (c.check_id.empty()) return "Must provide a CheckID or Name for the check";
    if (c.status.empty()) c.status = kCritical;
    if (!is_valid_status(c.status)) return "Invalid check status: \"" + c.status + "\"";
    if (!c.service_id.empty()) {
      const Service* owner = nullptr;
      if (svc && svc->id == c.service_id) owner = &*svc;
      if (!owner) owner = store.service(node_name, c.service_id);
      if (!owner)
        return "Failed to register check: \"" + c.check_id + "\": unknown service ID \"" +
               c.service_id + "\"";
      c.service_name = owner->name;
      c.service_tags = owner->tags;
    } else {
      c.service_name.clear();
      c.service_tags.clear();
    }
    plan_put_check(store, c, out);
  }
  return "";
}

std::string plan_deregister(const Store& store, const DeregisterRequest& req, Batch& out) {
  if (req.node.empty()) return "Must provide node";
  if (!req.check_id.empty()) {
    if (store.check(req.node, req.check_id)) out.push_back(DeleteCheck{req.node, req.check_id});
    if (!req.service_id.empty()) plan_delete_service(store, req.node, req.service_id, out);
    return "";
  }
  if (!req.service_id.empty()) {
    plan_delete_service(store, req.node, req.service_id, out);
    return "";
  }
  plan_delete_node(store, req.node, out);
  return "";
}

}  // namespace cairn::state
