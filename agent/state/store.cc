#include "agent/state/store.h"

#include <algorithm>
#include <cassert>
#include <random>

namespace cairn::state {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string node_key(std::string_view node_name) { return "node:" + lower(node_name); }
std::string service_key(std::string_view service_name) { return "service:" + lower(service_name); }
std::string kv_watch_key(std::string_view prefix) { return "kv:" + std::string(prefix); }
std::string session_key(std::string_view id) { return "session:" + std::string(id); }

namespace {

// Polynomial hash modulo the Mersenne prime 2^61 - 1. The base is drawn once
// per process so that nobody can craft keys whose prefixes collide with the
// prefixes others watch (a collision would only cost a lookup, but many
// would bring back the quadratic cost).
constexpr uint64_t kPrefixHashMod = (uint64_t{1} << 61) - 1;

uint64_t prefix_hash_base() {
  static const uint64_t base = [] {
    std::random_device rd;
    uint64_t b = (uint64_t{rd()} << 32) ^ rd();
    return b % (kPrefixHashMod - 256) + 256;
  }();
  return base;
}

uint64_t prefix_hash_step(uint64_t h, unsigned char c) {
  unsigned __int128 x = static_cast<unsigned __int128>(h) * prefix_hash_base() + c + 1;
  uint64_t r = static_cast<uint64_t>(x & kPrefixHashMod) + static_cast<uint64_t>(x >> 61);
  return r >= kPrefixHashMod ? r - kPrefixHashMod : r;
}

// The length takes part so that prefixes of different lengths rarely share one.
uint64_t prefix_fingerprint(uint64_t h, size_t len) {
  return h ^ (static_cast<uint64_t>(len) * 0x9E3779B97F4A7C15ULL);
}

constexpr std::string_view kKVWatchPrefix = "kv:";

bool is_kv_watch_key(const std::string& key) {
  return key.starts_with(kKVWatchPrefix);
}

uint64_t kv_watch_fingerprint(const std::string& key) {
  uint64_t h = 0;
  for (size_t i = kKVWatchPrefix.size(); i < key.size(); ++i)
    h = prefix_hash_step(h, static_cast<unsigned char>(key[i]));
  return prefix_fingerprint(h, key.size() - kKVWatchPrefix.size());
}

}  // namespace

void Store::watch_key_added(const std::string& key) const {
  if (is_kv_watch_key(key)) ++kv_watched_[kv_watch_fingerprint(key)];
}

void Store::watch_key_removed(const std::string& key) const {
  if (!is_kv_watch_key(key)) return;
  auto it = kv_watched_.find(kv_watch_fingerprint(key));
  if (it != kv_watched_.end() && --it->second == 0) kv_watched_.erase(it);
}

void Store::touch(const std::string& key, uint64_t index) {
  auto& slot = indexes_[key];
  if (slot != index) {
    slot = index;
    touched_.push_back(key);
  }
}

void Store::touch_services_of_node(const std::string& lc_node, uint64_t index) {
  // A node's address or node-level health changes every service it runs.
  auto it = services_.lower_bound({lc_node, ""});
  for (; it != services_.end() && it->first.first == lc_node; ++it)
    touch(service_key(it->second.name), index);
}

void Store::apply(std::span<const Mutation> batch, uint64_t index) {
  assert(index >= index_);
  ++generation_;
  touched_.clear();
  for (const Mutation& m : batch) {
    std::visit(
        [&](const auto& op) {
          using T = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<T, PutNode>) put_node(op.node, index);
          else if constexpr (std::is_same_v<T, DeleteNode>) delete_node(op.name, index);
          else if constexpr (std::is_same_v<T, PutService>) put_service(op.service, index);
          else if constexpr (std::is_same_v<T, DeleteService>) delete_service(op.node, op.id, index);
          else if constexpr (std::is_same_v<T, PutCheck>) put_check(op.check, index);
          else if constexpr (std::is_same_v<T, DeleteCheck>) delete_check(op.node, op.id, index);
          else if constexpr (std::is_same_v<T, PutKV>) put_kv(op.entry, index);
          else if constexpr (std::is_same_v<T, DeleteKV>) delete_kv(op.key, index);
          else if constexpr (std::is_same_v<T, PutSession>) put_session(op.session, index);
          else if constexpr (std::is_same_v<T, DeleteSession>) delete_session(op.id, index);
          else if constexpr (std::is_same_v<T, SetLockDelay>) lock_delays_[op.key] = op.until_unix_ms;
          else if constexpr (std::is_same_v<T, ReapTombstones>) reap_tombstones(op.up_to_index);
          else if constexpr (std::is_same_v<T, PutPreparedQuery>) put_prepared_query(op.query, index);
          else if constexpr (std::is_same_v<T, DeletePreparedQuery>)
            delete_prepared_query(op.id, index);
          else if constexpr (std::is_same_v<T, PutAutopilotConfig>)
            put_autopilot_config(op.config, index);
        },
        m);
  }
  index_ = index;
  if (apply_listener_) apply_listener_(batch, index);

  // Collect every watcher of a touched key once, then run them with the store settled.
  std::vector<std::function<void()>> to_fire;
  for (const std::string& key : touched_) {
    auto it = watchers_by_key_.find(key);
    if (it == watchers_by_key_.end()) continue;
    std::unordered_set<WatchId> ids = std::move(it->second);
    watchers_by_key_.erase(it);
    watch_key_removed(key);
    for (WatchId id : ids) {
      auto w = watchers_.find(id);
      if (w == watchers_.end()) continue;
      to_fire.push_back(std::move(w->second.fire));
      for (const auto& other : w->second.keys) {
        if (other == key) continue;
        auto o = watchers_by_key_.find(other);
        if (o == watchers_by_key_.end()) continue;
        o->second.erase(id);
        if (o->second.empty()) {
          watchers_by_key_.erase(o);
          watch_key_removed(other);
        }
      }
      watchers_.erase(w);
    }
  }
  touched_.clear();
  for (auto& f : to_fire) f();
}

namespace {

// The order rows are loaded in: the rows a row refers to come first.
int load_rank(const Mutation& m) {
  if (std::holds_alternative<PutNode>(m)) return 0;
  if (std::holds_alternative<PutService>(m)) return 1;
  if (std::holds_alternative<PutCheck>(m)) return 2;
  if (std::holds_alternative<PutSession>(m)) return 3;
  return 4;
}

}  // namespace

void Store::forget_lock_delays(int64_t before_unix_ms) {
  std::erase_if(lock_delays_, [before_unix_ms](const auto& d) { return d.second < before_unix_ms; });
}

void Store::reap_tombstones(uint64_t up_to) {
  std::erase_if(tombstones_, [up_to](const auto& t) { return t.second <= up_to; });
}

void Store::load_snapshot(std::span<const Mutation> rows, uint64_t revision) {
  ++generation_;
  std::unordered_map<WatchId, Watcher> parked = std::move(watchers_);
  watchers_.clear();
  watchers_by_key_.clear();
  kv_watched_.clear();
  nodes_.clear();
  services_.clear();
  by_name_.clear();
  checks_by_instance_.clear();
  checks_by_name_.clear();
  checks_.clear();
  queries_.clear();
  query_names_.clear();
  autopilot_ = AutopilotConfig{};
  kvs_.clear();
  tombstones_.clear();
  held_by_session_.clear();
  lock_delays_.clear();
  sessions_.clear();
  sessions_by_node_.clear();
  indexes_.clear();

  std::vector<const Mutation*> ordered;
  ordered.reserve(rows.size());
  for (const Mutation& m : rows) ordered.push_back(&m);
  std::stable_sort(ordered.begin(), ordered.end(), [](const Mutation* a, const Mutation* b) {
    return load_rank(*a) < load_rank(*b);
  });
  uint64_t floor = std::max(revision, index_);
  for (const Mutation* m : ordered) {
    std::visit(
        [&](const auto& op) {
          using T = std::decay_t<decltype(op)>;
          if constexpr (std::is_same_v<T, PutNode>) {
            put_node(op.node, floor);
            nodes_[lower(op.node.name)].raft = op.node.raft;
          } else if constexpr (std::is_same_v<T, PutService>) {
            put_service(op.service, floor);
            services_[{lower(op.service.node), op.service.id}].raft = op.service.raft;
          } else if constexpr (std::is_same_v<T, PutCheck>) {
            put_check(op.check, floor);
            checks_[{lower(op.check.node), op.check.check_id}].raft = op.check.raft;
          } else if constexpr (std::is_same_v<T, PutKV>) {
            put_kv(op.entry, floor);
            kvs_[op.entry.key].raft = op.entry.raft;
          } else if constexpr (std::is_same_v<T, PutSession>) {
            put_session(op.session, floor);
            sessions_[op.session.id].raft = op.session.raft;
          } else if constexpr (std::is_same_v<T, PutPreparedQuery>) {
            put_prepared_query(op.query, floor);
            queries_[op.query.id].raft = op.query.raft;
          } else if constexpr (std::is_same_v<T, SetLockDelay>) {
            lock_delays_[op.key] = op.until_unix_ms;
          } else if constexpr (std::is_same_v<T, PutAutopilotConfig>) {
            autopilot_ = op.config;  // keeps its own CreateIndex and ModifyIndex
          }
          // Deletes and reaping have nothing to act on in a fresh copy.
        },
        *m);
  }
  // Every table has an index now, even an empty one: the floor.
  for (std::string_view table :
       {kNodesTable, kServicesTable, kChecksTable, kKVTable, kSessionsTable, kAutopilotTable})
    indexes_[std::string(table)] = floor;
  touched_.clear();
  index_ = floor;
  if (snapshot_listener_) snapshot_listener_(rows, floor);
  for (auto& [id, w] : parked) w.fire();
}

uint64_t Store::index_of(std::string_view key) const {
  auto it = indexes_.find(std::string(key));
  return it == indexes_.end() ? 0 : it->second;
}

uint64_t Store::table_index(std::initializer_list<std::string_view> tables) const {
  uint64_t m = 0;
  for (auto t : tables) m = std::max(m, index_of(t));
  return m;
}

uint64_t Store::node_result_index(std::string_view node_name) const {
  if (uint64_t i = index_of(node_key(node_name))) return i;
  return table_index({kNodesTable, kServicesTable, kChecksTable});
}

uint64_t Store::service_result_index(std::string_view service_name) const {
  if (uint64_t i = index_of(service_key(service_name))) return i;
  return table_index({kNodesTable, kServicesTable, kChecksTable});
}

// Rows ----------------------------------------------------------------------

void Store::put_node(const Node& n, uint64_t index) {
  std::string lc = lower(n.name);
  auto [it, inserted] = nodes_.try_emplace(lc, n);
  uint64_t created = inserted ? index : it->second.raft.create_index;
  it->second = n;
  it->second.raft = {created, index};
  touch(std::string(kNodesTable), index);
  touch(node_key(lc), index);
  touch_services_of_node(lc, index);
}

void Store::delete_node(const std::string& name, uint64_t index) {
  std::string lc = lower(name);
  if (nodes_.erase(lc) == 0) return;
  touch(std::string(kNodesTable), index);
  touch(node_key(lc), index);
  touch_services_of_node(lc, index);
  // A row-level delete: a planner deletes the node's services and checks in the same
  // batch. Drop any left behind so the tables never point at a missing node.
  std::vector<std::string> ids;
  for (auto it = services_.lower_bound({lc, ""}); it != services_.end() && it->first.first == lc;
       ++it)
    ids.push_back(it->first.second);
  for (const auto& id : ids) delete_service(lc, id, index);
  std::vector<std::string> checks;
  for (auto it = checks_.lower_bound({lc, ""}); it != checks_.end() && it->first.first == lc; ++it)
    checks.push_back(it->first.second);
  for (const auto& id : checks) delete_check(lc, id, index);
  indexes_.erase(node_key(lc));
}

void Store::put_service(const Service& s, uint64_t index) {
  std::string lc_node = lower(s.node);
  std::pair<std::string, std::string> key{lc_node, s.id};
  auto it = services_.find(key);
  uint64_t created = index;
  if (it != services_.end()) {
    created = it->second.raft.create_index;
    if (lower(it->second.name) != lower(s.name)) {
      // Renamed: leave the old name's index set.
      std::string old = lower(it->second.name);
      auto byn = by_name_.find(old);
      if (byn != by_name_.end()) {
        byn->second.erase({lc_node, s.id});
        if (byn->second.empty()) by_name_.erase(byn);
      }
      touch(service_key(old), index);
    }
  }
  Service& row = services_[key];
  row = s;
  row.raft = {created, index};
  by_name_[lower(s.name)].insert({lc_node, s.id});
  touch(std::string(kServicesTable), index);
  touch(service_key(s.name), index);
  touch(node_key(lc_node), index);
}

void Store::delete_service(const std::string& node, const std::string& id, uint64_t index) {
  std::string lc_node = lower(node);
  auto it = services_.find({lc_node, id});
  if (it == services_.end()) return;
  std::string lc_name = lower(it->second.name);
  services_.erase(it);
  auto byn = by_name_.find(lc_name);
  if (byn != by_name_.end()) {
    byn->second.erase({lc_node, id});
    if (byn->second.empty()) by_name_.erase(byn);
  }
  touch(std::string(kServicesTable), index);
  touch(service_key(lc_name), index);
  touch(node_key(lc_node), index);
  if (by_name_.find(lc_name) == by_name_.end()) indexes_.erase(service_key(lc_name));
}

namespace {

// Check rows in an index list are ordered by their key, (lc node, check id).
bool row_key_less(const std::pair<const std::pair<std::string, std::string>, Check>* a,
                  const std::pair<const std::pair<std::string, std::string>, Check>* b) {
  return a->first < b->first;
}

}  // namespace

void Store::index_check(const CheckRow& row) {
  auto insert_sorted = [&row](CheckRowRefs& refs) {
    refs.insert(std::upper_bound(refs.begin(), refs.end(), &row, row_key_less), &row);
  };
  const Check& c = row.second;
  insert_sorted(checks_by_instance_[{row.first.first, c.service_id}]);
  if (!c.service_name.empty()) insert_sorted(checks_by_name_[lower(c.service_name)]);
}

void Store::unindex_check(const CheckRow& row) {
  auto erase_from = [&row](CheckRowRefs& refs) {
    auto it = std::lower_bound(refs.begin(), refs.end(), &row, row_key_less);
    if (it != refs.end() && *it == &row) refs.erase(it);
  };
  const Check& c = row.second;
  auto inst = checks_by_instance_.find({row.first.first, c.service_id});
  if (inst != checks_by_instance_.end()) {
    erase_from(inst->second);
    if (inst->second.empty()) checks_by_instance_.erase(inst);
  }
  if (!c.service_name.empty()) {
    auto byn = checks_by_name_.find(lower(c.service_name));
    if (byn != checks_by_name_.end()) {
      erase_from(byn->second);
      if (byn->second.empty()) checks_by_name_.erase(byn);
    }
  }
}

void Store::put_check(const Check& c, uint64_t index) {
  std::string lc_node = lower(c.node);
  auto [it, inserted] = checks_.try_emplace({lc_node, c.check_id});
  uint64_t created = index;
  // Most puts only change a status or output: the row stays in its indexes.
  bool reindex = true;
  if (!inserted) {
    Check& old = it->second;
    created = old.raft.create_index;
    if (!old.service_name.empty()) touch(service_key(old.service_name), index);
    reindex = old.service_id != c.service_id || lower(old.service_name) != lower(c.service_name);
    if (reindex) unindex_check(*it);
  }
  Check& row = it->second;
  row = c;
  row.raft = {created, index};
  if (reindex) index_check(*it);
  touch(std::string(kChecksTable), index);
  touch(node_key(lc_node), index);
  if (c.service_id.empty())
    touch_services_of_node(lc_node, index);
  else if (!c.service_name.empty())
    touch(service_key(c.service_name), index);
}

void Store::delete_check(const std::string& node, const std::string& id, uint64_t index) {
  std::string lc_node = lower(node);
  auto it = checks_.find({lc_node, id});
  if (it == checks_.end()) return;
  unindex_check(*it);
  Check old = std::move(it->second);
  checks_.erase(it);
  touch(std::string(kChecksTable), index);
  touch(node_key(lc_node), index);
  if (old.service_id.empty())
    touch_services_of_node(lc_node, index);
  else if (!old.service_name.empty())
    touch(service_key(old.service_name), index);
}

// KV and sessions --------------------------------------------------------------

void Store::touch_kv(const std::string& key, uint64_t index) {
  touch(std::string(kKVTable), index);
  // Every prefix of the key, including "" and the key itself, wakes its
  // watchers; prefix indexes are computed from the entries when read. Only
  // the watched prefixes are built: building all of them would cost the
  // square of the key's length.
  if (kv_watched_.empty()) return;
  uint64_t h = 0;
  for (size_t n = 0;; ++n) {
    if (kv_watched_.contains(prefix_fingerprint(h, n))) {
      touched_.push_back(kv_watch_key(std::string_view(key).substr(0, n)));
      ++kv_watch_keys_built_;
    }
    if (n == key.size()) break;
    h = prefix_hash_step(h, static_cast<unsigned char>(key[n]));
  }
}

void Store::put_kv(const KVEntry& e, uint64_t index) {
  auto [it, inserted] = kvs_.try_emplace(e.key, e);
  uint64_t created = inserted ? index : it->second.raft.create_index;
  if (!inserted) {
    if (!it->second.session.empty()) held_by_session_[it->second.session].erase(e.key);
    it->second = e;
  }
  it->second.raft = {created, index};
  if (!e.session.empty()) held_by_session_[e.session].insert(e.key);
  tombstones_.erase(e.key);
  touch_kv(e.key, index);
}

void Store::delete_kv(const std::string& key, uint64_t index) {
  auto it = kvs_.find(key);
  if (it == kvs_.end()) return;
  if (!it->second.session.empty()) {
    auto h = held_by_session_.find(it->second.session);
    if (h != held_by_session_.end()) h->second.erase(key);
  }
  kvs_.erase(it);
  tombstones_[key] = index;
  touch_kv(key, index);
}

void Store::put_session(const Session& sess, uint64_t index) {
  auto [it, inserted] = sessions_.try_emplace(sess.id, sess);
  uint64_t created = inserted ? index : it->second.raft.create_index;
  if (!inserted) it->second = sess;
  it->second.raft = {created, index};
  sessions_by_node_[lower(sess.node)].insert(sess.id);
  touch(std::string(kSessionsTable), index);
  touch(session_key(sess.id), index);
}

void Store::delete_session(const std::string& id, uint64_t index) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  auto byn = sessions_by_node_.find(lower(it->second.node));
  if (byn != sessions_by_node_.end()) {
    byn->second.erase(id);
    if (byn->second.empty()) sessions_by_node_.erase(byn);
  }
  sessions_.erase(it);
  held_by_session_.erase(id);
  touch(std::string(kSessionsTable), index);
  touch(session_key(id), index);
}

const KVEntry* Store::kv(std::string_view key) const {
  auto it = kvs_.find(std::string(key));
  return it == kvs_.end() ? nullptr : &it->second;
}

uint64_t Store::kv_prefix_index(std::string_view prefix) const {
  uint64_t m = 0;
  std::string p(prefix);
  for (auto it = kvs_.lower_bound(p); it != kvs_.end() && it->first.compare(0, p.size(), p) == 0;
       ++it)
    m = std::max(m, it->second.raft.modify_index);
  for (auto it = tombstones_.lower_bound(p);
       it != tombstones_.end() && it->first.compare(0, p.size(), p) == 0; ++it)
    m = std::max(m, it->second);
  return m ? m : index_of(kKVTable);
}

uint64_t Store::kv_key_index(std::string_view key) const {
  if (const KVEntry* e = kv(key)) return e->raft.modify_index;
  auto t = tombstones_.find(std::string(key));
  if (t != tombstones_.end()) return t->second;
  return index_of(kKVTable);
}

int64_t Store::lock_delay_until(std::string_view key) const {
  auto it = lock_delays_.find(std::string(key));
  return it == lock_delays_.end() ? 0 : it->second;
}

const Session* Store::session(std::string_view id) const {
  auto it = sessions_.find(std::string(id));
  return it == sessions_.end() ? nullptr : &it->second;
}

std::vector<const Session*> Store::sessions_of_node(std::string_view node) const {
  std::vector<const Session*> out;
  auto byn = sessions_by_node_.find(lower(node));
  if (byn == sessions_by_node_.end()) return out;
  for (const auto& id : byn->second)
    if (const Session* s = session(id)) out.push_back(s);
  return out;
}

std::vector<std::string> Store::keys_held_by(std::string_view session_id) const {
  auto it = held_by_session_.find(std::string(session_id));
  if (it == held_by_session_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

// Prepared queries ---------------------------------------------------------------

void Store::put_prepared_query(const PreparedQuery& q, uint64_t index) {
  uint64_t created = index;
  auto it = queries_.find(q.id);
  if (it != queries_.end()) {
    created = it->second.raft.create_index;
    if (!it->second.name.empty()) query_names_.erase(lower(it->second.name));
  }
  PreparedQuery& row = queries_[q.id];
  row = q;
  row.raft = {created, index};
  // Compiled here, once per write, so that DNS and HTTP lookups of a template reuse it.
  if (!row.tmpl.compiled || row.tmpl.compiled->pattern() != row.tmpl.regexp)
    compile_template(row.tmpl);
  if (!q.name.empty()) query_names_[lower(q.name)] = q.id;
  touch(std::string(kQueriesTable), index);
}

void Store::put_autopilot_config(const AutopilotConfig& c, uint64_t index) {
  uint64_t created = autopilot_.raft.create_index == 0 ? index : autopilot_.raft.create_index;
  autopilot_ = c;
  autopilot_.raft = {created, index};
  touch(std::string(kAutopilotTable), index);
}

void Store::delete_prepared_query(const std::string& id, uint64_t index) {
  auto it = queries_.find(id);
  if (it == queries_.end()) return;
  if (!it->second.name.empty()) query_names_.erase(lower(it->second.name));
  queries_.erase(it);
  touch(std::string(kQueriesTable), index);
}

// Reads -----------------------------------------------------------------------

const PreparedQuery* Store::prepared_query(std::string_view id) const {
  auto it = queries_.find(std::string(id));
  if (it == queries_.end()) it = queries_.find(lower(id));
  return it == queries_.end() ? nullptr : &it->second;
}

const PreparedQuery* Store::prepared_query_by_name(std::string_view name) const {
  auto it = query_names_.find(lower(name));
  return it == query_names_.end() ? nullptr : prepared_query(it->second);
}

const PreparedQuery* Store::prepared_query_longest_prefix(std::string_view lc_name) const {
  if (query_names_.empty()) return nullptr;
  std::string prefix(lc_name);
  while (!prefix.empty()) {
    auto it = query_names_.find(prefix);
    if (it != query_names_.end()) return prepared_query(it->second);
    prefix.pop_back();
  }
  return nullptr;
}

const PreparedQuery* Store::prepared_query_wild() const {
  for (const auto& [_, q] : queries_)
    if (q.is_template() && q.name.empty()) return &q;
  return nullptr;
}

const Node* Store::node(std::string_view name) const {
  auto it = nodes_.find(lower(name));
  return it == nodes_.end() ? nullptr : &it->second;
}

const Service* Store::service(std::string_view node, std::string_view id) const {
  auto it = services_.find({lower(node), std::string(id)});
  return it == services_.end() ? nullptr : &it->second;
}

const Service* Store::instance(const InstanceKey& k) const {
  auto it = services_.find({k.node, k.id});
  return it == services_.end() ? nullptr : &it->second;
}

std::vector<const Service*> Store::services_of_node(std::string_view node) const {
  std::string lc = lower(node);
  std::vector<const Service*> out;
  for (auto it = services_.lower_bound({lc, ""}); it != services_.end() && it->first.first == lc;
       ++it)
    out.push_back(&it->second);
  return out;
}

std::vector<const Service*> Store::service_instances(std::string_view name) const {
  std::vector<const Service*> out;
  auto byn = by_name_.find(lower(name));
  if (byn == by_name_.end()) return out;
  out.reserve(byn->second.size());
  for (const auto& k : byn->second)
    if (const Service* s = instance(k)) out.push_back(s);
  return out;
}

const Check* Store::check(std::string_view node, std::string_view id) const {
  auto it = checks_.find({lower(node), std::string(id)});
  return it == checks_.end() ? nullptr : &it->second;
}

std::vector<const Check*> Store::instance_checks(std::string_view node,
                                                 std::string_view service_id) const {
  std::vector<const Check*> out;
  auto inst = checks_by_instance_.find({lower(node), std::string(service_id)});
  if (inst == checks_by_instance_.end()) return out;
  out.reserve(inst->second.size());
  for (const CheckRow* row : inst->second) out.push_back(&row->second);
  return out;
}

std::vector<const Check*> Store::node_checks(std::string_view node) const {
  return instance_checks(node, "");
}

std::vector<const Check*> Store::checks_of_node(std::string_view node) const {
  std::string lc = lower(node);
  std::vector<const Check*> out;
  for (auto it = checks_.lower_bound({lc, ""}); it != checks_.end() && it->first.first == lc; ++it)
    out.push_back(&it->second);
  return out;
}

std::vector<const Check*> Store::checks_of_service(std::string_view name) const {
  std::vector<const Check*> out;
  auto byn = checks_by_name_.find(lower(name));
  if (byn == checks_by_name_.end()) return out;
  out.reserve(byn->second.size());
  for (const CheckRow* row : byn->second) out.push_back(&row->second);
  return out;
}

// Watches ---------------------------------------------------------------------

Store::WatchId Store::watch(const std::vector<std::string>& keys,
                            std::function<void()> fire) const {
  WatchId id = next_watch_++;
  Watcher& w = watchers_[id];
  w.keys = keys;
  w.fire = std::move(fire);
  for (const auto& k : keys) {
    auto& ids = watchers_by_key_[k];
    if (ids.empty()) watch_key_added(k);
    ids.insert(id);
  }
  return id;
}

void Store::unwatch(WatchId id) const {
  auto w = watchers_.find(id);
  if (w == watchers_.end()) return;
  for (const auto& k : w->second.keys) {
    auto it = watchers_by_key_.find(k);
    if (it == watchers_by_key_.end()) continue;
    it->second.erase(id);
    if (it->second.empty()) {
      watchers_by_key_.erase(it);
      watch_key_removed(k);
    }
  }
  watchers_.erase(w);
}

}  // namespace cairn::state
