// The catalog's rows: nodes, services and checks, as Consul models them.
//
// Every row carries the index at which it was created and last modified
// (Consul's CreateIndex/ModifyIndex). In -dev the store numbers changes
// itself; on servers the numbers are etcd revisions. Rows are plain values.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/duration.h"

namespace cairn::state {

struct RaftIndex {
  uint64_t create_index = 0;
  uint64_t modify_index = 0;
};

struct Node {
  std::string id;  // UUID, may be empty for externally registered nodes
  std::string name;
  std::string address;
  std::string datacenter;
  std::map<std::string, std::string> tagged_addresses;
  std::map<std::string, std::string> meta;
  RaftIndex raft;

  bool same_content(const Node& o) const;
};

struct ServiceAddress {
  std::string address;
  int port = 0;
  bool operator==(const ServiceAddress&) const = default;
};

struct Weights {
  int passing = 1;
  int warning = 1;
  bool operator==(const Weights&) const = default;
};

// Where an instance runs (Consul 1.17's Locality): a region and a zone,
// both optional; an empty one is Consul's nil.
struct Locality {
  std::string region;
  std::string zone;
  bool empty() const { return region.empty() && zone.empty(); }
  bool operator==(const Locality&) const = default;
};

// A service instance on a node (Consul's NodeService).
struct Service {
  std::string node;  // owning node's name
  std::string kind;  // "" for typical services; mesh kinds are stored and echoed
  std::string id;
  std::string name;
  std::vector<std::string> tags;
  std::string address;
  std::map<std::string, ServiceAddress> tagged_addresses;
  std::map<std::string, std::string> meta;
  int port = 0;
  std::string socket_path;
  Weights weights;
  bool enable_tag_override = false;
  std::string proxy_json;    // opaque mesh configuration, echoed as given ("" = none)
  std::string connect_json;
  Locality locality;
  RaftIndex raft;

  bool same_content(const Service& o) const;
};

// How a check runs (Consul's HealthCheckDefinition plus the agent-side knobs).
struct CheckDefinition {
  std::string http;
  std::string method;
  std::map<std::string, std::vector<std::string>> header;
  std::string body;
  std::string tls_server_name;
  bool tls_skip_verify = false;
  bool disable_redirects = false;
  std::string tcp;
  std::string udp;
  std::string grpc;
  bool grpc_use_tls = false;
  std::string h2ping;
  bool h2ping_use_tls = false;
  std::vector<std::string> args;
  std::string shell;
  std::string docker_container_id;
  std::string alias_node;
  std::string alias_service;
  Nanos ttl = 0;
  Nanos interval = 0;
  Nanos timeout = 0;
  Nanos deregister_critical_service_after = 0;
  int success_before_passing = 0;
  int failures_before_warning = 0;
  int failures_before_critical = 0;
  int output_max_size = 0;

  bool operator==(const CheckDefinition&) const = default;
};

// A check definition is written once (decoded, or read back from the data
// dir) and then only read, by the agent's own copy of the check, its spec, the
// catalog row and every batch that carries the row. They share this one
// immutable instance instead of holding half a kilobyte (plus strings) each.
// Never null; compares by value, so rows compare as they did with copies.
class SharedCheckDefinition {
 public:
  // The empty definition.
  SharedCheckDefinition();
  SharedCheckDefinition(CheckDefinition def)  // NOLINT(google-explicit-constructor): a value
      : def_(std::make_shared<const CheckDefinition>(std::move(def))) {}

  const CheckDefinition& operator*() const { return *def_; }
  const CheckDefinition* operator->() const { return def_.get(); }

  bool operator==(const SharedCheckDefinition& o) const {
    return def_ == o.def_ || *def_ == *o.def_;
  }

 private:
  std::shared_ptr<const CheckDefinition> def_;
};

inline constexpr const char* kPassing = "passing";
inline constexpr const char* kWarning = "warning";
inline constexpr const char* kCritical = "critical";
inline constexpr const char* kMaintenance = "maintenance";

struct Check {
  std::string node;
  std::string check_id;
  std::string name;
  std::string status = kCritical;
  std::string notes;
  std::string output;
  std::string service_id;
  std::string service_name;
  std::vector<std::string> service_tags;
  std::string type;  // "http", "tcp", "ttl", "script", "alias", "" (catalog-registered)...
  SharedCheckDefinition definition;
  RaftIndex raft;

  bool same_content(const Check& o) const;
};

bool is_valid_status(const std::string& s);

// A key in the KV store. An empty value is Consul's nil value (JSON null).
struct KVEntry {
  std::string key;
  uint64_t flags = 0;
  std::string value;
  std::string session;  // holder of the lock, "" when unlocked
  uint64_t lock_index = 0;
  RaftIndex raft;

  bool same_content(const KVEntry& o) const {
    return key == o.key && flags == o.flags && value == o.value && session == o.session &&
           lock_index == o.lock_index;
  }
};

inline constexpr const char* kBehaviorRelease = "release";
inline constexpr const char* kBehaviorDelete = "delete";

struct ServiceCheckRef {
  std::string id;
  std::string ns;
  bool operator==(const ServiceCheckRef&) const = default;
};

struct Session {
  std::string id;
  std::string name;
  std::string node;
  Nanos lock_delay = 15 * kSecond;
  std::string behavior = kBehaviorRelease;
  Nanos ttl = 0;  // 0: no TTL
  std::vector<std::string> node_checks;
  std::vector<ServiceCheckRef> service_checks;
  RaftIndex raft;
};

}  // namespace cairn::state
