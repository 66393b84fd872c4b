// Consul's catalog operations inside a transaction (/v1/txn Node, Service and
// Check operations): get, set, cas, delete and delete-cas on one row, planned
// against the store plus the writes of the transaction's earlier operations,
// with the checks and messages of Consul's state store. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "agent/state/kv_ops.h"
#include "agent/state/mutation.h"
#include "agent/state/store.h"

namespace cairn::state {

enum class CatalogVerb : uint8_t { get, set, cas, del, delete_cas };

// Consul's verb names ("get", "delete-cas", ...); false for an unknown name.
bool parse_catalog_verb(const std::string& name, CatalogVerb& out);

// node.raft.modify_index is the index a cas or delete-cas compares with.
struct NodeTxnOp {
  CatalogVerb verb = CatalogVerb::get;
  Node node;
};

// service.raft.modify_index: as for nodes. An empty ID is the name.
struct ServiceTxnOp {
  CatalogVerb verb = CatalogVerb::get;
  std::string node;
  Service service;
};

// check.node names the node; check.raft.modify_index as for nodes.
struct CheckTxnOp {
  CatalogVerb verb = CatalogVerb::get;
  Check check;
};

// Plans catalog operations one at a time and appends their mutations,
// errors and results to a plan, as KVTxnPlanner does for KV operations.
// Rows written earlier in the transaction are seen by later operations;
// a cas or delete-cas on such a row fails as stale, since its new index is
// not known until the transaction commits (so no client could name it).
class CatalogTxnPlanner {
 public:
  explicit CatalogTxnPlanner(const Store& store) : store_(store) {}
  void plan(size_t op_index, const NodeTxnOp& op, TxnPlan& plan);
  void plan(size_t op_index, const ServiceTxnOp& op, TxnPlan& plan);
  void plan(size_t op_index, const CheckTxnOp& op, TxnPlan& plan);

 private:
  using RowKey = std::pair<std::string, std::string>;  // (lower-cased node, id)

  // Reads through the transaction's own writes.
  const Node* node(const std::string& name) const;
  const Node* node_with_id(const std::string& id) const;
  const Service* service(const std::string& node, const std::string& id) const;
  const Check* check(const std::string& node, const std::string& id) const;
  bool written(const std::string& node) const { return nodes_.contains(lower(node)); }
  bool written(const RowKey& key, bool service) const {
    return service ? services_.contains(key) : checks_.contains(key);
  }
  // IDs of a node's services, and of its checks (of one service, or all).
  std::vector<std::string> service_ids(const std::string& node) const;
  std::vector<std::string> check_ids(const std::string& node,
                                     const std::optional<std::string>& service_id) const;

  // Writes, into the batch and the overlay; unchanged rows are left out.
  void put_node(const Node& n, Batch& out);
  void delete_node(const std::string& name, Batch& out);
  void put_service(const Service& s, Batch& out);
  void delete_service(const std::string& node, const std::string& id, Batch& out);
  void put_check(const Check& c, Batch& out);
  void delete_check(const std::string& node, const std::string& id, Batch& out);

  // The steps of each verb: "" or the error Consul reports for the operation.
  std::string set_node(const NodeTxnOp& op, Batch& out);
  std::string set_service(const ServiceTxnOp& op, Service& stored, Batch& out);
  std::string set_check(const CheckTxnOp& op, Check& stored, Batch& out);

  const Store& store_;
  std::map<std::string, std::optional<Node>> nodes_;  // by lower-cased name
  std::map<RowKey, std::optional<Service>> services_;
  std::map<RowKey, std::optional<Check>> checks_;
};

}  // namespace cairn::state
