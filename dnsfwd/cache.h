// The answer cache (dnsdist's packet cache): whole answers keyed by
// (case-folded name, type, class, DO, CD), bounded in entries and bytes,
// evicted least recently used.
//
// Every operation is O(1) whatever the fill level: an open-addressing index
// (linear probing, backward-shift deletion, never more than half full) and an
// intrusive LRU list over a slab of entries. dnsmasq scans its whole cache on
// insert once it is full of live entries, which is why its misses slow down
// 4x between 150 and 10,000 entries; here a miss costs the same at 100 or
// 1,000,000 entries. An evicted entry's buffer is reused for the next insert
// when it is large enough, so a full cache stops allocating.
//
// Pure: no clock of its own (callers pass the loop time in milliseconds), no
// sockets. Entries stay past expiry for their stale window (RFC 8767), so a
// lookup reports fresh, stale or miss.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace cairn::dnsfwd {

struct CacheKey {
  const uint8_t* qname = nullptr;  // case-folded uncompressed wire name
  uint16_t qname_len = 0;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  uint8_t flags = 0;  // kKeyDO | kKeyCD
  uint64_t hash = 0;  // from hash_key()
};
inline constexpr uint8_t kKeyDO = 1;
inline constexpr uint8_t kKeyCD = 2;

uint64_t hash_key(const uint8_t* qname, size_t len, uint16_t qtype, uint16_t qclass, uint8_t flags);
bool same_key(const CacheKey& a, const CacheKey& b);

struct CacheStats {
  uint64_t inserts = 0;
  uint64_t updates = 0;
  uint64_t evictions = 0;  // pushed out by the entry or byte limit
  uint64_t expired = 0;    // removed after the stale window
};

class Cache {
 public:
  Cache(uint32_t max_entries, uint64_t max_bytes);
  ~Cache();
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  enum class State : uint8_t { miss, fresh, stale };

  // A view of an entry, valid until the cache is next modified.
  struct Found {
    State state = State::miss;
    const uint8_t* msg = nullptr;  // the stored answer (no OPT record)
    size_t len = 0;
    const uint16_t* ttl_offsets = nullptr;  // where each record's TTL sits in msg
    size_t ttl_count = 0;
    uint8_t ext_rcode = 0;
    uint32_t age = 0;             // seconds since stored
    uint32_t ttl_left = 0;        // seconds until expiry (0 when stale)
    uint32_t lifetime = 0;        // seconds it was stored for
    uint32_t hits = 0;            // since stored
    bool refresh_failed = false;  // stale, and a refresh failed recently (RFC 8767 §5)
    bool negative = false;
  };

  // Finds an entry and marks it recently used. Entries past their stale
  // window are removed and reported as a miss.
  Found lookup(const CacheKey& key, uint64_t now_ms);

  struct Stored {
    const uint8_t* msg;
    size_t len;
    const uint16_t* ttl_offsets;
    size_t ttl_count;
    uint8_t ext_rcode;
    uint32_t lifetime;      // seconds fresh, > 0
    uint32_t stale_window;  // seconds it may be served stale after expiry (0: never)
    bool negative;
  };
  // Inserts or replaces. The answer must carry the key's question (the cache
  // matches names against it). Refuses (returns false) an answer larger than
  // a quarter of max_bytes or 65535 bytes.
  bool insert(const CacheKey& key, const Stored& answer, uint64_t now_ms);

  // RFC 8767 failure recheck: serve stale without asking until until_ms.
  void mark_refresh_failed(const CacheKey& key, uint64_t until_ms);

  // Removes every entry for which drop(qname, qname_len) says so (reload);
  // the name is passed case-folded.
  size_t erase_if(const std::function<bool(const uint8_t* qname, size_t len)>& drop);
  void clear();

  size_t size() const { return count_; }
  uint64_t bytes() const { return bytes_; }
  uint32_t max_entries() const { return max_entries_; }
  uint64_t max_bytes() const { return max_bytes_; }
  const CacheStats& stats() const { return stats_; }
  // New limits apply at once (entries beyond them are evicted).
  void resize(uint32_t max_entries, uint64_t max_bytes);

 private:
  static constexpr uint32_t kNone = 0xffffffffu;
  struct Entry;
  uint32_t find_slot(const CacheKey& key) const;  // index slot or kNone
  void unlink(uint32_t e);
  void push_front(uint32_t e);
  void remove(uint32_t e);  // from index, LRU and counts; buffer kept for reuse
  void index_erase(uint32_t slot);
  void evict_for(uint64_t incoming_bytes, uint32_t incoming_entries);
  void rebuild_index(size_t capacity);

  uint32_t max_entries_;
  uint64_t max_bytes_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> free_;   // unused entry slots
  std::vector<uint32_t> index_;  // entry number or kNone; power-of-two size
  uint64_t mask_ = 0;
  uint32_t head_ = kNone;  // most recently used
  uint32_t tail_ = kNone;  // least recently used
  size_t count_ = 0;
  uint64_t bytes_ = 0;
  CacheStats stats_;
};

}  // namespace cairn::dnsfwd
