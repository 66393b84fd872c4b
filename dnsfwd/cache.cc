#include "dnsfwd/cache.h"

#include "common/dns/name.h"
#include "common/dns/wire.h"

#include <algorithm>
#include <cstring>

namespace cairn::dnsfwd {

// 64 bytes of bookkeeping per entry; the answer itself (which carries the
// name in its question) and its TTL offsets share one allocation. Times are
// kept relative to stored_ms in seconds, which is all TTLs need.
struct Cache::Entry {
  uint64_t stored_ms = 0;
  uint8_t* data = nullptr;  // msg | (pad to 2) | TTL offsets as uint16; owned
  uint32_t hash = 0;        // the key hash's low 32 bits, checked before the name
  uint32_t prev = kNone;
  uint32_t next = kNone;
  uint32_t lifetime = 0;        // seconds fresh after stored_ms
  uint32_t stale_until = 0;     // seconds after stored_ms it may still be served stale
  uint32_t refresh_failed = 0;  // seconds after stored_ms until which refreshes are held off
  uint32_t hits = 0;
  uint32_t capacity = 0;
  uint16_t qname_len = 0;
  uint16_t msg_len = 0;
  uint16_t ttl_count = 0;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  uint8_t flags = 0;
  uint8_t ext_rcode = 0;
  bool negative = false;
  bool live = false;

  const uint8_t* qname() const { return data + dns::kHeaderSize; }  // as stored (any case)
  size_t ttls_at() const { return (size_t{msg_len} + 1) & ~size_t{1}; }
  uint64_t footprint() const { return uint64_t{capacity} + sizeof(Entry); }
  uint64_t expires_ms() const { return stored_ms + uint64_t{lifetime} * 1000; }
  uint64_t stale_until_ms() const { return stored_ms + uint64_t{stale_until} * 1000; }
  void release() {
    delete[] data;
    data = nullptr;
    capacity = 0;
  }
};

namespace {
// FNV-1a over the key fields: short keys, no allocation, good enough spread
// for an index that is at most half full.
inline uint64_t fnv(uint64_t h, uint8_t b) {
  return (h ^ b) * 0x100000001b3ull;
}

size_t needed_bytes(size_t msg_len, size_t ttl_count) {
  size_t n = ((msg_len + 1) & ~size_t{1}) + 2 * ttl_count;
  return (n + 15) & ~size_t{15};  // round up so buffers are reusable across similar answers
}
}  // namespace

uint64_t hash_key(const uint8_t* qname, size_t len, uint16_t qtype, uint16_t qclass,
                  uint8_t flags) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; ++i) h = fnv(h, qname[i]);
  h = fnv(h, static_cast<uint8_t>(qtype >> 8));
  h = fnv(h, static_cast<uint8_t>(qtype));
  h = fnv(h, static_cast<uint8_t>(qclass >> 8));
  h = fnv(h, static_cast<uint8_t>(qclass));
  h = fnv(h, flags);
  return h ^ (h >> 29);
}

bool same_key(const CacheKey& a, const CacheKey& b) {
  return a.hash == b.hash && a.qtype == b.qtype && a.qclass == b.qclass && a.flags == b.flags &&
         a.qname_len == b.qname_len && std::memcmp(a.qname, b.qname, a.qname_len) == 0;
}

Cache::Cache(uint32_t max_entries, uint64_t max_bytes)
    : max_entries_(max_entries == 0 ? 1 : max_entries), max_bytes_(max_bytes) {
  // Reserved, not touched: pages become resident only as entries fill them,
  // and the slab never moves (no doubling copies, no slack) as it grows.
  entries_.reserve(max_entries_);
  rebuild_index(max_entries_);
}

Cache::~Cache() {
  for (auto& e : entries_) e.release();
}

void Cache::rebuild_index(size_t entries) {
  size_t cap = 16;
  while (cap < entries * 2) cap <<= 1;
  index_.assign(cap, kNone);
  mask_ = cap - 1;
  for (uint32_t e = 0; e < entries_.size(); ++e) {
    if (!entries_[e].live) continue;
    uint64_t s = entries_[e].hash & mask_;
    while (index_[s] != kNone) s = (s + 1) & mask_;
    index_[s] = e;
  }
}

uint32_t Cache::find_slot(const CacheKey& key) const {
  uint64_t s = key.hash & mask_;
  while (index_[s] != kNone) {
    const Entry& e = entries_[index_[s]];
    if (e.hash == static_cast<uint32_t>(key.hash) && e.qtype == key.qtype &&
        e.qclass == key.qclass && e.flags == key.flags && e.qname_len == key.qname_len &&
        dns::equal_ci(e.qname(), key.qname, key.qname_len))
      return static_cast<uint32_t>(s);
    s = (s + 1) & mask_;
  }
  return kNone;
}

void Cache::index_erase(uint32_t slot) {
  uint64_t i = slot;
  for (;;) {
    index_[i] = kNone;
    uint64_t j = i;
    for (;;) {
      j = (j + 1) & mask_;
      if (index_[j] == kNone) return;
      uint64_t home = entries_[index_[j]].hash & mask_;
      // The entry at j may stay when its home lies cyclically in (i, j].
      bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!stays) break;
    }
    index_[i] = index_[j];
    i = j;
  }
}

void Cache::unlink(uint32_t e) {
  Entry& x = entries_[e];
  if (x.prev != kNone)
    entries_[x.prev].next = x.next;
  else
    head_ = x.next;
  if (x.next != kNone)
    entries_[x.next].prev = x.prev;
  else
    tail_ = x.prev;
  x.prev = x.next = kNone;
}

void Cache::push_front(uint32_t e) {
  Entry& x = entries_[e];
  x.prev = kNone;
  x.next = head_;
  if (head_ != kNone) entries_[head_].prev = e;
  head_ = e;
  if (tail_ == kNone) tail_ = e;
}

void Cache::remove(uint32_t e) {
  Entry& x = entries_[e];
  uint64_t s = x.hash & mask_;
  while (index_[s] != e) s = (s + 1) & mask_;
  index_erase(static_cast<uint32_t>(s));
  unlink(e);
  bytes_ -= x.footprint();
  --count_;
  x.live = false;
  free_.push_back(e);
}

Cache::Found Cache::lookup(const CacheKey& key, uint64_t now_ms) {
  Found f;
  uint32_t slot = find_slot(key);
  if (slot == kNone) return f;
  uint32_t e = index_[slot];
  Entry& x = entries_[e];
  if (now_ms >= x.expires_ms() && now_ms >= x.stale_until_ms()) {
    remove(e);
    x.release();
    ++stats_.expired;
    return f;
  }
  if (head_ != e) {
    unlink(e);
    push_front(e);
  }
  ++x.hits;
  bool fresh = now_ms < x.expires_ms();
  f.state = fresh ? State::fresh : State::stale;
  f.msg = x.data;
  f.len = x.msg_len;
  f.ttl_offsets = reinterpret_cast<const uint16_t*>(x.data + x.ttls_at());
  f.ttl_count = x.ttl_count;
  f.ext_rcode = x.ext_rcode;
  f.age = static_cast<uint32_t>((now_ms - x.stored_ms) / 1000);
  f.ttl_left = fresh ? static_cast<uint32_t>((x.expires_ms() - now_ms) / 1000) : 0;
  f.lifetime = x.lifetime;
  f.hits = x.hits;
  f.refresh_failed = !fresh && now_ms < x.stored_ms + uint64_t{x.refresh_failed} * 1000;
  f.negative = x.negative;
  return f;
}

void Cache::evict_for(uint64_t incoming_bytes, uint32_t incoming_entries) {
  while (tail_ != kNone &&
         (count_ + incoming_entries > max_entries_ || bytes_ + incoming_bytes > max_bytes_)) {
    uint32_t victim = tail_;
    remove(victim);
    ++stats_.evictions;
    // Keep the victim's buffer in its free slot: insert() takes the slot back
    // first, so a full cache recycles buffers instead of allocating.
    if (free_.size() > 1) entries_[free_[free_.size() - 2]].release();
  }
}

bool Cache::insert(const CacheKey& key, const Stored& a, uint64_t now_ms) {
  if (a.len > 65535 || a.ttl_count > 65535 || a.lifetime == 0) return false;
  if (a.len < dns::kHeaderSize + key.qname_len) return false;  // must carry its question
  size_t need = needed_bytes(a.len, a.ttl_count);
  if (need + sizeof(Entry) > max_bytes_ / 4) return false;

  uint32_t e;
  uint32_t slot = find_slot(key);
  if (slot != kNone) {
    e = index_[slot];
    ++stats_.updates;
    Entry& x = entries_[e];
    if (x.capacity < need) {
      bytes_ -= x.capacity;
      x.release();
      x.data = new uint8_t[need];
      x.capacity = static_cast<uint32_t>(need);
      bytes_ += x.capacity;
      if (bytes_ > max_bytes_) {
        // Growing an entry can push the total over: evict others, not this one.
        unlink(e);
        evict_for(0, 0);
        push_front(e);
      }
    }
    unlink(e);
    push_front(e);
  } else {
    evict_for(need + sizeof(Entry), 1);
    if (!free_.empty()) {
      e = free_.back();
      free_.pop_back();
    } else {
      e = static_cast<uint32_t>(entries_.size());
      entries_.emplace_back();
    }
    Entry& x = entries_[e];
    if (x.capacity < need) {
      x.release();
      x.data = new uint8_t[need];
      x.capacity = static_cast<uint32_t>(need);
    }
    x.live = true;
    x.hash = static_cast<uint32_t>(key.hash);
    bytes_ += x.footprint();
    ++count_;
    ++stats_.inserts;
    uint64_t s = key.hash & mask_;
    while (index_[s] != kNone) s = (s + 1) & mask_;
    index_[s] = e;
    push_front(e);
  }

  Entry& x = entries_[e];
  x.qname_len = key.qname_len;
  x.qtype = key.qtype;
  x.qclass = key.qclass;
  x.flags = key.flags;
  x.msg_len = static_cast<uint16_t>(a.len);
  x.ttl_count = static_cast<uint16_t>(a.ttl_count);
  x.ext_rcode = a.ext_rcode;
  x.negative = a.negative;
  x.stored_ms = now_ms;
  x.lifetime = a.lifetime;
  x.stale_until =
      static_cast<uint32_t>(std::min<uint64_t>(uint64_t{a.lifetime} + a.stale_window, UINT32_MAX));
  x.refresh_failed = 0;
  x.hits = 0;
  std::memcpy(x.data, a.msg, a.len);
  if (a.ttl_count) std::memcpy(x.data + x.ttls_at(), a.ttl_offsets, 2 * a.ttl_count);
  return true;
}

void Cache::mark_refresh_failed(const CacheKey& key, uint64_t until_ms) {
  uint32_t slot = find_slot(key);
  if (slot == kNone) return;
  Entry& x = entries_[index_[slot]];
  uint64_t after = until_ms > x.stored_ms ? (until_ms - x.stored_ms + 999) / 1000 : 0;
  x.refresh_failed = static_cast<uint32_t>(std::min<uint64_t>(after, UINT32_MAX));
}

size_t Cache::erase_if(const std::function<bool(const uint8_t*, size_t)>& drop) {
  size_t n = 0;
  uint8_t folded[dns::kMaxNameWire];
  for (uint32_t e = 0; e < entries_.size(); ++e) {
    Entry& x = entries_[e];
    if (!x.live) continue;
    dns::fold_copy(x.qname(), x.qname_len, folded);
    if (!drop(folded, x.qname_len)) continue;
    remove(e);
    x.release();
    ++n;
  }
  return n;
}

void Cache::clear() {
  erase_if([](const uint8_t*, size_t) { return true; });
}

void Cache::resize(uint32_t max_entries, uint64_t max_bytes) {
  max_entries_ = max_entries == 0 ? 1 : max_entries;
  max_bytes_ = max_bytes;
  entries_.reserve(max_entries_);
  evict_for(0, 0);
  for (uint32_t f : free_) entries_[f].release();
  rebuild_index(std::max<size_t>(max_entries_, count_));
}

}  // namespace cairn::dnsfwd
