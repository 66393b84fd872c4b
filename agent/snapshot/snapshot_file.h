// The bytes of a cairn snapshot (`GET /v1/snapshot`, `cairn snapshot save`):
// every replicated row at one index, versioned and checksummed. The layout
// is documented in docs/snapshot.md; in short, big-endian throughout:
//
//   "CAIRNSNP"  u32 version  u64 index  u64 term  u64 created (unix ms)
//   u16 + datacenter  u16 + cairn version  u32 record count
//   count x (u32 + etcd row key, u32 + row value)   (agent/server/etcd_rows.h)
//   SHA-256 of every byte before it (32 bytes)
//
// Records are the rows exactly as a server keeps them in etcd, so a server
// restores them without re-encoding and `inspect` needs no catalog code.
//
// Decoding is a parser of untrusted input: it checks the size cap, then the
// checksum over the whole file, then every length against what is left, so
// a truncated, corrupt or foreign file is refused before anything acts on it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::snapshot {

inline constexpr std::string_view kMagic = "CAIRNSNP";
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kChecksumBytes = 32;  // SHA-256
// A snapshot is held in memory twice while it is written or read (rows and
// bytes): the cap keeps one request from taking the agent's memory.
inline constexpr size_t kDefaultMaxBytes = 256u << 20;
// Longer than any row key cairn writes (KV keys are capped at 8 KiB and
// identifiers at 1 KiB by state/input_limits.h).
inline constexpr size_t kMaxKeyBytes = 64u << 10;

enum class ErrorCode : uint8_t {
  ok,
  too_large,            // over the size cap
  truncated,            // ends before its header, a record or its checksum
  bad_magic,            // not a cairn snapshot
  unsupported_version,  // written by a newer (or unknown) format version
  checksum_mismatch,    // the bytes are not those that were written
  malformed,            // lengths or rows that do not add up
};

const char* error_code_name(ErrorCode code);

struct Status {
  ErrorCode code = ErrorCode::ok;
  std::string message;

  bool ok() const { return code == ErrorCode::ok; }
  static Status error(ErrorCode code, std::string message) { return {code, std::move(message)}; }
};

struct Meta {
  uint32_t version = kFormatVersion;
  uint64_t index = 0;  // the store's index (a server's etcd revision) the rows are at
  uint64_t term = 0;
  uint64_t created_unix_ms = 0;
  std::string datacenter;
  std::string cairn_version;
};

// One replicated row: its etcd key (/cairn/<table>/...) and value.
struct Record {
  std::string key;
  std::string value;
};

struct Snapshot {
  Meta meta;
  std::vector<Record> records;
};

std::string encode(const Snapshot& s);

struct Limits {
  size_t max_bytes = kDefaultMaxBytes;
};
// Fills out only when the whole input is a valid snapshot.
Status decode(std::string_view bytes, const Limits& limits, Snapshot& out);

// The table a record belongs to, from its key: "node", "kv", ... ("" when
// the key is not under /cairn/).
std::string_view record_table(std::string_view key);

// What `cairn snapshot inspect` lists per table, in the order tables first appear.
struct TableStats {
  std::string table;
  uint64_t count = 0;
  uint64_t bytes = 0;  // keys and values
};
std::vector<TableStats> table_stats(const Snapshot& s);

// Consul's snapshot ID: <term>-<index>-<created unix ms>.
std::string snapshot_id(const Meta& m);

}  // namespace cairn::snapshot
