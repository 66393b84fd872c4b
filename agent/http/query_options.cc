#include "agent/http/query_options.h"

#include <charconv>

namespace cairn::http_api {

bool parse_bool_param(const std::string& v, bool& out) {
  if (v.empty() || v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") {
    out = true;
    return true;
  }
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False") {
    out = false;
    return true;
  }
  return false;
}

std::string parse_query_options(const http::Request& req, QueryOptions& o) {
  for (const auto& [k, v] : req.query) {
    if (k == "index") {
      auto r = std::from_chars(v.data(), v.data() + v.size(), o.index);
      if (r.ec != std::errc() || r.ptr != v.data() + v.size()) return "Invalid index";
    } else if (k == "wait") {
      auto d = parse_duration(v);
      if (!d || *d < 0) return "Invalid wait time";
      o.wait = std::min(*d, kMaxWait);
    } else if (k == "stale") {
      o.stale = true;
    } else if (k == "consistent") {
      o.consistent = true;
    } else if (k == "max_stale") {
      auto d = parse_duration(v);
      if (!d) return "Invalid max_stale value \"" + v + "\"";
      o.stale = true;
      o.max_stale = *d;
    } else if (k == "pretty") {
      o.pretty = true;
    } else if (k == "filter") {
      o.filter = v;
    } else if (k == "near") {
      // A client agent's forwarded "_agent" means the client's node.
      o.near = v == "_agent" && !req.origin_node.empty() ? req.origin_node : v;
    } else if (k == "dc") {
      o.datacenter = v;
    } else if (k == "node-meta") {
      auto colon = v.find(':');
      if (colon == std::string::npos)
        o.node_meta.emplace_back(v, "");
      else
        o.node_meta.emplace_back(v.substr(0, colon), v.substr(colon + 1));
    } else if (k == "tag") {
      o.tags.push_back(v);
    } else if (k == "hash") {
      o.hash = v;
    }
  }
  if (o.stale && o.consistent) return "Cannot specify ?stale with ?consistent, conflicting semantics.";
  if (o.consistent && req.has_param("cached"))
    return "Cannot specify ?cached with ?consistent, conflicting semantics.";
  return "";
}

}  // namespace cairn::http_api
