// The state store: the catalog's tables, their indexes, and watches.
//
// Pure C++: no I/O, no clock. It changes only through apply(batch, index), so
// -dev (which numbers batches itself) and servers (which apply what their etcd
// watch delivers, numbered by revision) share every line above it.
//
// Indexes are kept per table ("nodes", "services", "checks") and per entity
// ("node:<name>", "service:<name>", lower-cased): a blocking query on one
// service wakes only when that service, its checks or the nodes it runs on
// change, and reports the index of its own last change, as Consul does.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "agent/state/mutation.h"
#include "agent/state/rows.h"

namespace cairn::state {

std::string lower(std::string_view s);

// Watch and index keys.
inline constexpr std::string_view kNodesTable = "nodes";
inline constexpr std::string_view kServicesTable = "services";
inline constexpr std::string_view kChecksTable = "checks";
inline constexpr std::string_view kKVTable = "kvs";
inline constexpr std::string_view kSessionsTable = "sessions";
// A KV write fires the watchers of every prefix of its key ("kv:" + prefix),
// so a blocking query on a prefix wakes on puts and deletes beneath it.
// Only prefixes somebody watches are materialised (see Store::touch_kv).
std::string kv_watch_key(std::string_view prefix);
std::string session_key(std::string_view id);
std::string node_key(std::string_view node_name);
std::string service_key(std::string_view service_name);

class Store {
 public:
  using WatchId = uint64_t;

  Store() = default;
  // The check indexes point into the check table: a copy would point into
  // the original. Moves keep the table's nodes, and so the pointers.
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  Store(Store&&) = default;
  Store& operator=(Store&&) = default;

  // Applies a batch at index; index must not be below index(). It equals it
  // only where a client's view adds (or drops) the rows of a subscription at
  // the index it already holds. Watchers of every key the batch touched fire
  // after the whole batch is in place.
  void apply(std::span<const Mutation> batch, uint64_t index);

  // Replaces every table with rows, as a server's watch cache does after a
  // re-list at revision (compaction, a broken watch, a restarted member).
  // Rows keep their own CreateIndex and ModifyIndex; every table and entity
  // index becomes at least revision, the floor that keeps indexes from going
  // backwards without the tombstones of deletes before the list (reference
  // etcd.md §8.8); every parked watcher fires once and re-reads.
  void load_snapshot(std::span<const Mutation> rows, uint64_t revision);

  // Forgets tombstones at or below up_to without a new index: on servers
  // each watch cache keeps its own tombstones (etcd has none), and reaps them
  // on its own clock.
  void reap_tombstones(uint64_t up_to);

  // Runs after every apply with the batch and its index (the DNS loops
  // replay them into their own replicas). One listener; empty clears it.
  using ApplyListener = std::function<void(std::span<const Mutation>, uint64_t index)>;
  void set_apply_listener(ApplyListener fn) { apply_listener_ = std::move(fn); }
  // Runs after every load_snapshot with the rows and the index (the DNS
  // loops replace their replicas). One listener; empty clears it.
  void set_snapshot_listener(ApplyListener fn) { snapshot_listener_ = std::move(fn); }

  uint64_t index() const { return index_; }
  // Moves on every apply and load, even at the same index (caches key on it).
  uint64_t generation() const { return generation_; }
  // Index of a table or entity key; 0 if never touched (or the entity is gone).
  uint64_t index_of(std::string_view key) const;
  // What a blocking query reports: the entity's index, else the tables' max.
  uint64_t node_result_index(std::string_view node_name) const;
  uint64_t service_result_index(std::string_view service_name) const;
  uint64_t table_index(std::initializer_list<std::string_view> tables) const;

  // Reads. Pointers stay valid until the next apply().
  const Node* node(std::string_view name) const;
  const std::map<std::string, Node>& nodes() const { return nodes_; }  // by lower-cased name
  const Service* service(std::string_view node, std::string_view id) const;
  std::vector<const Service*> services_of_node(std::string_view node) const;
  // Instances of a service name, ordered by node name then service ID.
  std::vector<const Service*> service_instances(std::string_view name) const;
  // Service names (lower-cased) to their instance keys, sorted by name.
  struct InstanceKey {
    std::string node;  // lower-cased
    std::string id;
    auto operator<=>(const InstanceKey&) const = default;
  };
  const std::map<std::string, std::set<InstanceKey>>& services_by_name() const { return by_name_; }
  const Service* instance(const InstanceKey& k) const;

  const Check* check(std::string_view node, std::string_view id) const;
  // Node-level checks (no service) of a node.
  std::vector<const Check*> node_checks(std::string_view node) const;
  // Checks of one service instance.
  std::vector<const Check*> instance_checks(std::string_view node, std::string_view service_id) const;
  // All checks of a node: node-level first, then by check ID.
  std::vector<const Check*> checks_of_node(std::string_view node) const;
  // All checks of every instance of a service name.
  std::vector<const Check*> checks_of_service(std::string_view name) const;
  const std::map<std::pair<std::string, std::string>, Check>& checks() const { return checks_; }

  // KV. Pointers stay valid until the next apply().
  const KVEntry* kv(std::string_view key) const;
  const std::map<std::string, KVEntry>& kvs() const { return kvs_; }
  // Max ModifyIndex of entries and tombstones under prefix (Consul's prefix query index).
  uint64_t kv_prefix_index(std::string_view prefix) const;
  // Index for a single-key read: the key's own, else its tombstone's, else the table's.
  uint64_t kv_key_index(std::string_view key) const;
  int64_t lock_delay_until(std::string_view key) const;
  const std::map<std::string, int64_t>& lock_delays() const { return lock_delays_; }
  // Forgets lock delays that ended before before_unix_ms (each server's own
  // clean-up; an ended delay blocks nothing).
  void forget_lock_delays(int64_t before_unix_ms);
  const std::map<std::string, uint64_t>& tombstones() const { return tombstones_; }

  // Sessions.
  const Session* session(std::string_view id) const;
  const std::map<std::string, Session>& sessions() const { return sessions_; }
  std::vector<const Session*> sessions_of_node(std::string_view node) const;
  // Keys a session holds locks on.
  std::vector<std::string> keys_held_by(std::string_view session_id) const;
  // Prepared queries, by ID.
  const PreparedQuery* prepared_query(std::string_view id) const;
  const std::map<std::string, PreparedQuery>& prepared_queries() const { return queries_; }
  // The autopilot configuration as last written; nullptr when never written
  // (readers answer Consul's defaults).
  const AutopilotConfig* autopilot_config() const {
    return autopilot_.raft.modify_index == 0 ? nullptr : &autopilot_;
  }
  // The query whose name equals name, compared case-insensitively.
  const PreparedQuery* prepared_query_by_name(std::string_view name) const;
  // The query with the longest (lower-cased) name that is a prefix of lc_name.
  const PreparedQuery* prepared_query_longest_prefix(std::string_view lc_name) const;
  // The catch-all template (empty name), if any.
  const PreparedQuery* prepared_query_wild() const;

  // One-shot watch on keys; fire runs once, after the first apply touching any of them.
  // Watches do not change data, so a reader holding a const store may wait on it.
  WatchId watch(const std::vector<std::string>& keys, std::function<void()> fire) const;
  void unwatch(WatchId id) const;
  size_t watch_count() const { return watchers_.size(); }
  // KV watch keys ("kv:" + prefix) built by writes so far: the work a KV
  // write spends on prefix watchers. Each write costs one rolling-hash probe
  // per byte of its key and builds only the prefixes that are watched.
  uint64_t kv_watch_keys_built() const { return kv_watch_keys_built_; }

 private:
  using CheckKey = std::pair<std::string, std::string>;  // (lc node, check id)
  using CheckRow = std::map<CheckKey, Check>::value_type;
  // The check indexes point at rows of checks_ (map nodes never move) rather
  // than hold copies of node names and check IDs: with 10,000 checks the
  // copies cost about 2 MB. Each list is sorted by the row's key and only
  // changes when a check is added, removed or moves to another service.
  using CheckRowRefs = std::vector<const CheckRow*>;

  void touch(const std::string& key, uint64_t index);
  void touch_services_of_node(const std::string& lc_node, uint64_t index);
  void put_node(const Node& n, uint64_t index);
  void delete_node(const std::string& name, uint64_t index);
  void put_service(const Service& s, uint64_t index);
  void delete_service(const std::string& node, const std::string& id, uint64_t index);
  void put_check(const Check& c, uint64_t index);
  void delete_check(const std::string& node, const std::string& id, uint64_t index);
  void index_check(const CheckRow& row);
  void unindex_check(const CheckRow& row);
  void touch_kv(const std::string& key, uint64_t index);
  // Keep kv_watched_ in step with watchers_by_key_ (a key gains its first
  // watcher, or loses its last one).
  void watch_key_added(const std::string& key) const;
  void watch_key_removed(const std::string& key) const;
  void put_kv(const KVEntry& e, uint64_t index);
  void delete_kv(const std::string& key, uint64_t index);
  void put_session(const Session& s, uint64_t index);
  void delete_session(const std::string& id, uint64_t index);
  void put_prepared_query(const PreparedQuery& q, uint64_t index);
  void put_autopilot_config(const AutopilotConfig& c, uint64_t index);
  void delete_prepared_query(const std::string& id, uint64_t index);

  uint64_t index_ = 0;
  uint64_t generation_ = 0;
  std::unordered_map<std::string, uint64_t> indexes_;

  std::map<std::string, Node> nodes_;  // lower-cased name -> row
  std::map<std::pair<std::string, std::string>, Service> services_;  // (lc node, id)
  std::map<std::string, std::set<InstanceKey>> by_name_;             // lc service name
  std::map<CheckKey, Check> checks_;
  // (lc node, service id) -> its checks; service id "" holds node-level checks.
  std::map<std::pair<std::string, std::string>, CheckRowRefs> checks_by_instance_;
  std::unordered_map<std::string, CheckRowRefs> checks_by_name_;  // lc service name
  std::map<std::string, PreparedQuery> queries_;      // by ID
  AutopilotConfig autopilot_;
  std::map<std::string, std::string> query_names_;    // lower-cased non-empty name -> ID

  std::map<std::string, KVEntry> kvs_;
  std::map<std::string, uint64_t> tombstones_;  // deleted key -> index of the delete
  std::unordered_map<std::string, std::set<std::string>> held_by_session_;
  std::map<std::string, int64_t> lock_delays_;  // key -> wall-clock ms
  std::map<std::string, Session> sessions_;
  std::map<std::string, std::set<std::string>> sessions_by_node_;  // lc node -> ids

  struct Watcher {
    std::vector<std::string> keys;
    std::function<void()> fire;
  };
  mutable WatchId next_watch_ = 1;
  mutable std::unordered_map<WatchId, Watcher> watchers_;
  mutable std::unordered_map<std::string, std::unordered_set<WatchId>> watchers_by_key_;
  // Fingerprints (rolling hash and length) of the watched KV prefixes, with
  // how many watched prefixes share each. A KV write hashes its key's
  // prefixes incrementally and builds a watch key only on a hit: linear in
  // the key's length instead of quadratic. A false hit only costs a lookup.
  mutable std::unordered_map<uint64_t, uint32_t> kv_watched_;
  uint64_t kv_watch_keys_built_ = 0;
  ApplyListener apply_listener_;
  ApplyListener snapshot_listener_;
  std::vector<std::string> touched_;  // keys touched by the batch being applied
};

}  // namespace cairn::state
