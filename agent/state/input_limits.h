// Bounds on the keys, identifiers and lists that clients send: KV keys,
// node, service, check and session names and IDs, tags, meta, and how many
// checks one registration carries. Each costs memory in every replica and
// time on the one loop in proportion to its size, and Consul leaves most of
// them unbounded; cairn's limits are far above what a real user writes
// (docs/compatibility.md lists them beside Consul's behaviour). Pure, so the
// HTTP layer, config files and the fuzzers share one set of checks.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/state/rows.h"

namespace cairn::state {

inline constexpr size_t kMaxKVKeyBytes = 8 * 1024;
// Node names, service IDs and names, check IDs and names, session names.
inline constexpr size_t kMaxIdentifierBytes = 1024;
inline constexpr size_t kMaxTags = 1024;
inline constexpr size_t kMaxTagBytes = 8 * 1024;
inline constexpr size_t kMaxTaggedAddresses = 64;
// Checks in one registration (a service's checks, or a catalog register's).
inline constexpr size_t kMaxChecksPerRegistration = 256;
// Checks a session names (NodeChecks plus ServiceChecks).
inline constexpr size_t kMaxSessionChecks = 256;
// Consul's own metadata limits (structs.ValidateMetadata).
inline constexpr size_t kMaxMetaPairs = 64;
inline constexpr size_t kMaxMetaKeyLength = 128;
inline constexpr size_t kMaxMetaValueLength = 512;

// Why an input was refused: the limit's name (a metric label) and the text
// of the 400 answer.
struct LimitError {
  std::string_view limit;
  std::string message;
};
using LimitCheck = std::optional<LimitError>;

LimitCheck check_kv_key(std::string_view key);
// field names the input in the message ("ID", "Node", "Checks[2].CheckID").
LimitCheck check_identifier(std::string_view field, std::string_view value);
LimitCheck check_tags(std::string_view field, const std::vector<std::string>& tags);
// Counts and sizes only; the key syntax is the caller's (it differs by field).
LimitCheck check_meta(std::string_view field, const std::map<std::string, std::string>& meta);
LimitCheck check_check_count(size_t count);
// A service's ID, name, tags, meta and tagged addresses.
LimitCheck check_service(const Service& s);
// A check's ID, name, service ID and notes' owner fields.
LimitCheck check_check(std::string_view field, const Check& c);

}  // namespace cairn::state
