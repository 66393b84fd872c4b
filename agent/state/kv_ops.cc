#include "agent/state/kv_ops.h"

#include <map>

namespace cairn::state {

bool parse_kv_verb(const std::string& n, KVVerb& out) {
  static const std::map<std::string, KVVerb> verbs = {
      {"set", KVVerb::set},
      {"cas", KVVerb::cas},
      {"lock", KVVerb::lock},
      {"unlock", KVVerb::unlock},
      {"get", KVVerb::get},
      {"get-tree", KVVerb::get_tree},
      {"get-or-empty", KVVerb::get_or_empty},
      {"check-index", KVVerb::check_index},
      {"check-session", KVVerb::check_session},
      {"check-not-exists", KVVerb::check_not_exists},
      {"delete", KVVerb::del},
      {"delete-tree", KVVerb::delete_tree},
      {"delete-cas", KVVerb::delete_cas},
  };
  auto it = verbs.find(n);
  if (it == verbs.end()) return false;
  out = it->second;
  return true;
}

// The store as the transaction sees it: earlier ops' writes shadow the store.
class KVTxnPlanner::View {
 public:
  explicit View(const Store& store) : store_(store) {}

  const KVEntry* get(const std::string& key) const {
    auto it = overlay_.find(key);
    if (it != overlay_.end()) return it->second ? &*it->second : nullptr;
    return store_.kv(key);
  }

  std::vector<std::string> keys_under(const std::string& prefix) const {
    std::vector<std::string> out;
    const auto& kvs = store_.kvs();
    for (auto it = kvs.lower_bound(prefix);
         it != kvs.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
      if (get(it->first)) out.push_back(it->first);
    for (auto it = overlay_.lower_bound(prefix);
         it != overlay_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
      if (it->second && !store_.kv(it->first)) out.push_back(it->first);
    return out;
  }

  void put(KVEntry e, Batch& batch) {
    batch.push_back(PutKV{e});
    std::string key = e.key;
    overlay_[key] = std::move(e);
  }

  void del(const std::string& key, Batch& batch) {
    if (!get(key)) return;
    batch.push_back(DeleteKV{key});
    overlay_[key] = std::nullopt;
  }

 private:
  const Store& store_;
  std::map<std::string, std::optional<KVEntry>> overlay_;
};

namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

KVTxnPlanner::KVTxnPlanner(const Store& store, int64_t now_ms)
    : store_(store), now_ms_(now_ms), view_(std::make_unique<View>(store)) {}

KVTxnPlanner::~KVTxnPlanner() = default;

void KVTxnPlanner::plan(size_t i, const KVOp& op, TxnPlan& plan) {
  View& view = *view_;
  const Store& store = store_;
  int64_t now_ms = now_ms_;
  auto fail = [&](size_t at, std::string what, bool condition) {
    plan.errors.push_back({at, std::move(what), condition});
  };
  const KVEntry* cur = view.get(op.key);
  auto write = [&](KVEntry e) {
    if (cur) {
      e.lock_index = e.lock_index ? e.lock_index : cur->lock_index;
    }
    view.put(std::move(e), plan.batch);
    plan.reports.push_back({i, op.key, false, false, false});
  };
  KVEntry next;
  next.key = op.key;
  next.value = op.value;
  next.flags = op.flags;
  switch (op.verb) {
    case KVVerb::set:
      // A plain write keeps any lock on the key (Consul ignores locks here).
      if (cur) {
        next.session = cur->session;
        next.lock_index = cur->lock_index;
      }
      write(next);
      break;
    case KVVerb::cas:
      if ((op.index == 0 && cur) ||
          (op.index != 0 && (!cur || cur->raft.modify_index != op.index))) {
        fail(i, "failed to set key " + quoted(op.key) + ", index is stale", true);
        break;
      }
      if (cur) {
        next.session = cur->session;
        next.lock_index = cur->lock_index;
      }
      write(next);
      break;
    case KVVerb::lock: {
      // Consul's words: clients match "missing session".
      if (op.session.empty()) {
        fail(i, "missing session", false);
        break;
      }
      if (!store.session(op.session)) {
        fail(i, "invalid session " + quoted(op.session), false);
        break;
      }
      if (store.lock_delay_until(op.key) > now_ms) {
        fail(i, "failed to lock key " + quoted(op.key) + ", lock is in lock-delay", true);
        break;
      }
      if (cur && !cur->session.empty() && cur->session != op.session) {
        fail(i, "failed to lock key " + quoted(op.key) + ", lock is already held", true);
        break;
      }
      next.session = op.session;
      // A new acquisition bumps LockIndex; the holder re-acquiring does not.
      uint64_t base = cur ? cur->lock_index : 0;
      next.lock_index = (cur && cur->session == op.session) ? base : base + 1;
      if (next.lock_index == 0) next.lock_index = 1;
      view.put(next, plan.batch);
      plan.reports.push_back({i, op.key, false, false, false});
      break;
    }
    case KVVerb::unlock:
      if (!cur || cur->session != op.session || op.session.empty()) {
        fail(i,
             "failed to unlock key " + quoted(op.key) +
                 ", lock isn't held, or is held by another session",
             true);
        break;
      }
      next.session.clear();
      next.lock_index = cur->lock_index;
      view.put(next, plan.batch);
      plan.reports.push_back({i, op.key, false, false, false});
      break;
    case KVVerb::get:
      if (!cur) {
        fail(i, "key " + quoted(op.key) + " doesn't exist", true);
        break;
      }
      plan.reports.push_back({i, op.key, true, false, false});
      break;
    case KVVerb::get_or_empty:
      plan.reports.push_back({i, op.key, true, false, true});
      break;
    case KVVerb::get_tree:
      plan.reports.push_back({i, op.key, true, true, false});
      break;
    case KVVerb::check_index:
      if (!cur) {
        fail(i, "key " + quoted(op.key) + " doesn't exist", true);
      } else if (cur->raft.modify_index != op.index) {
        fail(i,
             "current modify index " + std::to_string(cur->raft.modify_index) +
                 " != " + std::to_string(op.index),
             true);
      } else {
        plan.reports.push_back({i, op.key, false, false, false});
      }
      break;
    case KVVerb::check_session:
      if (!cur) {
        fail(i, "key " + quoted(op.key) + " doesn't exist", true);
      } else if (cur->session != op.session) {
        fail(i,
             "failed session check for key " + quoted(op.key) + ", current session " +
                 quoted(cur->session) + " != " + quoted(op.session),
             true);
      } else {
        plan.reports.push_back({i, op.key, false, false, false});
      }
      break;
    case KVVerb::check_not_exists:
      if (cur) fail(i, "key " + quoted(op.key) + " exists", true);
      break;
    case KVVerb::del:
      view.del(op.key, plan.batch);
      break;
    case KVVerb::delete_tree:
      for (const auto& k : view.keys_under(op.key)) view.del(k, plan.batch);
      break;
    case KVVerb::delete_cas:
      if (op.index == 0 || !cur || cur->raft.modify_index != op.index) {
        fail(i, "failed to delete key " + quoted(op.key) + ", index is stale", true);
        break;
      }
      view.del(op.key, plan.batch);
      break;
  }
}

TxnPlan plan_kv_txn(const Store& store, const std::vector<KVOp>& ops, int64_t now_ms) {
  TxnPlan plan;
  KVTxnPlanner planner(store, now_ms);
  for (size_t i = 0; i < ops.size(); ++i) planner.plan(i, ops[i], plan);
  if (!plan.errors.empty()) {
    plan.batch.clear();
    plan.reports.clear();
  }
  return plan;
}

}  // namespace cairn::state
