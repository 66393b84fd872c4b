// Recently computed read answers, reused while nothing they depend on has
// changed. Many clients poll the same few reads (Prometheus, consul-template,
// dashboards); rendering a 60 KB health answer once per change instead of
// once per request is what lets one loop keep up. An entry is valid while
// every store key its read watches still has the index it had when rendered.
#pragma once

#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/http/blocking.h"
#include "agent/state/store.h"

namespace cairn::http_api {

class ReadCache {
 public:
  ReadCache(size_t max_entries, size_t max_bytes) : max_entries_(max_entries), max_bytes_(max_bytes) {}

  // The cached result for key if still valid.
  bool lookup(const std::string& key, const state::Store& store, ReadResult& out);
  void insert(const std::string& key, const state::Store& store, const ReadResult& r);

  // Key for a request: method, path and query without the blocking parameters.
  static std::string key_for(const http::Request& req);

 private:
  struct Entry {
    std::string key;
    ReadResult result;  // response.shared_body holds the bytes
    std::vector<uint64_t> key_indexes;
    uint64_t store_index;
    size_t bytes;
  };
  void evict(std::list<Entry>::iterator it);

  size_t max_entries_, max_bytes_, bytes_ = 0;
  std::list<Entry> lru_;  // front = most recent
  std::unordered_map<std::string, std::list<Entry>::iterator> by_key_;
};

}  // namespace cairn::http_api
