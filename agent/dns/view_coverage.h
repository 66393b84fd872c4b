// What a client agent's partial view of the catalog holds. A client streams
// only the services and nodes it is asked about
// (agent/forward/catalog_mirror.h): a question for another one is answered
// by a server while the view subscribes to it. Null where the store holds the whole catalog
// (servers).
#pragma once

#include <string>
#include <string_view>

namespace cairn::dns {

// A topic of the view: a lower-cased service name, or kNodeTopic then a
// lower-cased node name (agent/forward/catalog_stream.h carries them).
inline constexpr char kNodeTopic = '\x01';
// Writes node_lc's topic into out (a reused buffer: no allocation once warm).
inline void assign_node_topic(std::string& out, std::string_view node_lc) {
  out.assign(1, kNodeTopic);
  out += node_lc;
}

class ViewCoverage {
 public:
  virtual ~ViewCoverage() = default;
  // Whether the view holds every row of the service (lower-cased), and that
  // it was asked for now (an unused service is dropped after a while; one
  // not held is subscribed to).
  virtual bool covers(std::string_view service_lc) = 0;
  // The same for a node lookup (the node and its node-level checks).
  virtual bool covers_node(std::string_view node_lc) = 0;
};

}  // namespace cairn::dns
