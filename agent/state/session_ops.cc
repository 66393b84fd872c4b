#include "agent/state/session_ops.h"

#include <algorithm>
#include <set>

namespace cairn::state {

std::string plan_session_create(const Store& store, const Session& s, Batch& out, Nanos ttl_min) {
  if (s.node.empty()) return "Must provide Node";
  const Node* node = store.node(s.node);
  if (!node) return "Missing node registration";
  if (s.behavior != kBehaviorRelease && s.behavior != kBehaviorDelete)
    return "Invalid Behavior setting '" + s.behavior + "'";
  if (s.ttl != 0 && (s.ttl < ttl_min || s.ttl > kSessionTTLMax))
    return "Invalid Session TTL '" + format_duration(s.ttl) + "', must be between [" +
           format_duration(ttl_min) + "=" + format_duration(kSessionTTLMax) + "]";
  for (const auto& id : s.node_checks) {
    const Check* c = store.check(node->name, id);
    if (!c) return "Missing check '" + id + "' registration";
    if (c->status == kCritical) return "Check '" + id + "' is in critical state";
  }
  for (const auto& ref : s.service_checks) {
    const Check* c = store.check(node->name, ref.id);
    if (!c) return "Missing check '" + ref.id + "' registration";
    if (c->status == kCritical) return "Check '" + ref.id + "' is in critical state";
  }
  Session row = s;
  row.node = node->name;
  out.push_back(PutSession{std::move(row)});
  return "";
}

void plan_release_locks(const Store& store, const Session& s, const std::vector<std::string>& keys,
                        int64_t now_ms, Batch& out) {
  int64_t delay_until = now_ms + s.lock_delay / kMillisecond;
  for (const std::string& key : keys) {
    const KVEntry* e = store.kv(key);
    if (!e || e->session != s.id) continue;
    if (s.behavior == kBehaviorDelete) {
      out.push_back(DeleteKV{key});
    } else {
      KVEntry released = *e;
      released.session.clear();
      out.push_back(PutKV{std::move(released)});
    }
    if (s.lock_delay > 0) out.push_back(SetLockDelay{key, delay_until});
  }
}

void plan_session_invalidate(const Store& store, const std::string& id, int64_t now_ms,
                             Batch& out) {
  const Session* s = store.session(id);
  if (!s) return;
  plan_release_locks(store, *s, store.keys_held_by(id), now_ms, out);
  out.push_back(DeleteSession{id});
}

void plan_session_effects(const Store& store, const Batch& batch, int64_t now_ms, Batch& extra) {
  if (store.sessions().empty()) return;
  std::set<std::string> doomed;
  auto by_check = [&](const std::string& node, const std::string& check_id) {
    for (const Session* s : store.sessions_of_node(node)) {
      bool named = std::find(s->node_checks.begin(), s->node_checks.end(), check_id) !=
                   s->node_checks.end();
      for (const auto& ref : s->service_checks) named = named || ref.id == check_id;
      if (named) doomed.insert(s->id);
    }
  };
  for (const Mutation& m : batch) {
    if (const auto* put = std::get_if<PutCheck>(&m)) {
      if (put->check.status == kCritical) by_check(put->check.node, put->check.check_id);
    } else if (const auto* del = std::get_if<DeleteCheck>(&m)) {
      by_check(del->node, del->id);
    } else if (const auto* dn = std::get_if<DeleteNode>(&m)) {
      for (const Session* s : store.sessions_of_node(dn->name)) doomed.insert(s->id);
    } else if (const auto* ds = std::get_if<DeleteSession>(&m)) {
      doomed.erase(ds->id);
    }
  }
  for (const auto& id : doomed) plan_session_invalidate(store, id, now_ms, extra);
}

}  // namespace cairn::state
