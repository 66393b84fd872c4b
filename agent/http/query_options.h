// Query parameters shared by Consul's read endpoints (blocking, consistency,
// filtering), parsed with Consul's error texts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/duration.h"
#include "common/http/message.h"

namespace cairn::http_api {

inline constexpr Nanos kDefaultWait = 5 * kMinute;
inline constexpr Nanos kMaxWait = 10 * kMinute;

struct QueryOptions {
  uint64_t index = 0;
  Nanos wait = kDefaultWait;
  bool stale = false;
  Nanos max_stale = 0;  // ?max_stale: how old a stale answer may be (0: any)
  bool consistent = false;
  bool pretty = false;
  std::string filter;
  std::string near;
  std::string datacenter;
  std::vector<std::pair<std::string, std::string>> node_meta;  // key:value, all must match
  std::vector<std::string> tags;
  std::string hash;  // hash-based blocking (agent endpoints)
  bool passing = false;  // ?passing, read only by the endpoints that take it
};

// Returns "" or the 400 body text.
std::string parse_query_options(const http::Request& req, QueryOptions& out);

// Go's strconv.ParseBool plus the bare form (?passing means true).
bool parse_bool_param(const std::string& value, bool& out);

}  // namespace cairn::http_api
