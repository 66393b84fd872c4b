#include "agent/http/read_cache.h"

namespace cairn::http_api {

std::string ReadCache::key_for(const http::Request& req) {
  std::string key = req.method + " " + req.path + "?";
  for (const auto& [k, v] : req.query) {
    if (k == "index" || k == "wait" || k == "hash" || k == "stale" || k == "consistent" ||
        k == "cached" || k == "max_stale" || k == "token")
      continue;
    key += k + "=" + v + "&";
  }
  return key;
}

bool ReadCache::lookup(const std::string& key, const state::Store& store, ReadResult& out) {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return false;
  Entry& e = *it->second;
  bool valid = true;
  if (store.index() != e.store_index) {
    // Something changed somewhere: still valid if none of this read's keys moved.
    for (size_t i = 0; i < e.result.watch.size() && valid; ++i)
      valid = store.index_of(e.result.watch[i]) == e.key_indexes[i];
    // Table-level fallbacks (e.g. a service that does not exist) are not in the
    // watch list; results with an index above every watched key are not cached.
    if (valid) e.store_index = store.index();
  }
  if (!valid) {
    evict(it->second);
    return false;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  out = e.result;
  return true;
}

void ReadCache::insert(const std::string& key, const state::Store& store, const ReadResult& r) {
  if (r.response.status != 200 || !r.response.shared_body || r.watch.empty()) return;
  // The index must be explained by the watched keys, or a change elsewhere could
  // alter the result without invalidating it.
  uint64_t max_key = 0;
  std::vector<uint64_t> indexes;
  for (const auto& k : r.watch) {
    indexes.push_back(store.index_of(k));
    max_key = std::max(max_key, indexes.back());
  }
  // Index 0: no watched key was ever touched, so nothing would invalidate the
  // entry (KV watch keys never get an index of their own).
  if (r.index == 0 || r.index != max_key) return;
  size_t bytes = r.response.shared_body->size() + key.size();
  if (bytes > max_bytes_ / 4) return;
  if (auto it = by_key_.find(key); it != by_key_.end()) evict(it->second);
  lru_.push_front(Entry{key, r, std::move(indexes), store.index(), bytes});
  by_key_[key] = lru_.begin();
  bytes_ += bytes;
  while (!lru_.empty() && (lru_.size() > max_entries_ || bytes_ > max_bytes_))
    evict(std::prev(lru_.end()));
}

void ReadCache::evict(std::list<Entry>::iterator it) {
  bytes_ -= it->bytes;
  by_key_.erase(it->key);
  lru_.erase(it);
}

}  // namespace cairn::http_api
