// Queries in flight to upstreams (dnsdist's IDState), and the two tables
// that find them again: by (socket, query ID) when an answer arrives, and by
// cache key when an identical client query arrives (coalescing).
//
// Everything here is pooled: transactions and waiters are allocated once and
// recycled through free lists, the tables are open-addressing arrays that
// only grow (never shrink), so a steady flow of queries allocates nothing.
// The number of transactions is bounded by the groups' max_pending, which is
// what keeps a flood towards a dead upstream from growing memory.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "common/dns/wire.h"
#include "common/uv_handle.h"
#include "dnsfwd/cache.h"
#include "dnsfwd/client.h"

namespace cairn::dnsfwd {

class Upstream;
struct GroupRuntime;

inline constexpr int kMaxAttempts = 12;           // config allows 8; TC->TCP retries add to it
inline constexpr size_t kMaxUpstreamQuery = 512;  // header + name + question + OPT

// One client waiting for the answer, with what its copy depends on.
struct Waiter {
  Waiter* next = nullptr;
  ClientRef client;
  uint16_t id = 0;
  uint16_t flags = 0;    // the query's flag word
  uint16_t limit = 512;  // largest answer it accepts (65535 over TCP)
  bool edns = false;
  bool do_bit = false;
  uint8_t qname[dns::kMaxNameWire];  // its own spelling (0x20)
};

struct Attempt {
  Upstream* upstream = nullptr;
  uint32_t serial = 0;  // UDP socket serial
  uint16_t id = 0;
  bool tcp = false;
  bool open = false;       // no answer or error yet
  bool timed_out = false;  // still accepted if it arrives late
  uint64_t sent_ns = 0;
  uint64_t deadline_ms = 0;
};

enum class TxnKind : uint8_t { client, prefetch, probe };

struct Transaction {
  void* owner = nullptr;  // the forwarder, for the timer callback
  uint32_t index = 0;
  uint32_t generation = 0;
  bool in_use = false;
  bool in_key_index = false;
  TxnKind kind = TxnKind::client;

  // The cache/coalescing key (case-folded name).
  uint8_t qname[dns::kMaxNameWire];
  uint16_t qname_len = 0;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  uint8_t key_flags = 0;
  uint64_t hash = 0;
  CacheKey key() const { return CacheKey{qname, qname_len, qtype, qclass, key_flags, hash}; }

  std::shared_ptr<GroupRuntime> group;
  Upstream* probe_target = nullptr;

  uint8_t query[kMaxUpstreamQuery];  // the upstream query; its ID is patched per attempt
  uint16_t query_len = 0;

  Attempt attempts[kMaxAttempts];
  uint8_t n_attempts = 0;
  uint64_t tried_mask = 0;
  uint32_t rr_start = 0;

  uint64_t started_ms = 0;
  uint64_t deadline_ms = 0;
  uint64_t stale_at_ms = 0;  // 0: no stale answer pending

  Waiter* waiters = nullptr;
  Waiter* last_waiter = nullptr;
  uint32_t n_waiters = 0;

  UvHandle<uv_timer_t> timer;
};

// (socket serial, query ID) -> (transaction, attempt). Linear probing.
class IdTable {
 public:
  explicit IdTable(size_t initial = 1024);
  static uint64_t key(uint32_t serial, uint16_t id) { return (uint64_t{serial} << 16) | id; }
  // Returns false when the key is present already.
  bool insert(uint64_t key, uint32_t txn, uint8_t attempt);
  bool find(uint64_t key, uint32_t& txn, uint8_t& attempt) const;
  void erase(uint64_t key);
  size_t size() const { return count_; }

 private:
  struct Slot {
    uint64_t key = kEmpty;
    uint32_t txn = 0;
    uint8_t attempt = 0;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t mix(uint64_t k) { return (k * 0x9e3779b97f4a7c15ull) >> 20; }
  void grow();
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
  size_t count_ = 0;
};

// Cache key -> the transaction fetching it. Keys live in the transactions.
class KeyIndex {
 public:
  explicit KeyIndex(size_t initial = 1024);
  Transaction* find(const CacheKey& key,
                    const std::vector<std::unique_ptr<Transaction>>& txns) const;
  void insert(const Transaction& t, const std::vector<std::unique_ptr<Transaction>>& txns);
  void erase(const Transaction& t, const std::vector<std::unique_ptr<Transaction>>& txns);
  size_t size() const { return count_; }

 private:
  static constexpr uint32_t kEmpty = 0xffffffffu;
  void grow(const std::vector<std::unique_ptr<Transaction>>& txns);
  std::vector<uint32_t> slots_;  // transaction index
  uint64_t mask_ = 0;
  size_t count_ = 0;
};

// Free lists of transactions and waiters.
class InflightPool {
 public:
  explicit InflightPool(uv_loop_t* loop) : loop_(loop) {}
  Transaction* acquire();
  void release(Transaction* t);
  Waiter* acquire_waiter();
  void release_waiter(Waiter* w);
  std::vector<std::unique_ptr<Transaction>>& all() { return txns_; }
  const std::vector<std::unique_ptr<Transaction>>& all() const { return txns_; }
  size_t in_use() const { return in_use_; }

 private:
  uv_loop_t* loop_;
  std::vector<std::unique_ptr<Transaction>> txns_;
  std::vector<uint32_t> free_;
  std::vector<std::unique_ptr<Waiter>> waiter_store_;
  Waiter* free_waiters_ = nullptr;
  size_t in_use_ = 0;
};

}  // namespace cairn::dnsfwd
