// /v1/coordinate: the network coordinates of the datacenter's nodes (Vivaldi,
// from gossip round trips), read and updated as Consul's catalog serves them.
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <vector>

#include "agent/agent.h"
#include "agent/http/decode_body.h"
#include "agent/http/endpoints.h"
#include "agent/http/reply.h"
#include "agent/membership.h"
#include "common/decode.h"

namespace cairn::http_api {

namespace {

void write_coord(JsonWriter& w, const std::string& node, const gossip::Coordinate& c) {
  w.begin_object();
  w.field("Node", node);
  w.field("Segment", "");
  w.key("Coord");
  c.write_json(w);
  w.end_object();
}

// Go's %v of a *coordinate.Coordinate, which Consul puts in its rejection text.
std::string go_value_text(const gossip::Coordinate& c) {
  auto g = [](double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", x);
    return std::string(buf);
  };
  std::string s = "&{[";
  for (size_t i = 0; i < c.vec.size(); ++i) s += (i ? " " : "") + g(c.vec[i]);
  return s + "] " + g(c.error) + " " + g(c.adjustment) + " " + g(c.height) + "}";
}

http::Response json_with_index(std::string body) {
  http::Response resp = http::Response::json(std::move(body));
  resp.set_header("X-Consul-Index", "1");
  return resp;
}

// Nodes of the catalog and members of the LAN pool that have a coordinate.
void coordinate_nodes(Agent& agent, const ExchangePtr& ex, const std::string&) {
  std::set<std::string> members;
  for (const auto& m : agent.membership().members()) members.insert(m.name);
  std::string body;
  JsonWriter w(body, ex->request.has_param("pretty"));
  w.begin_array();
  for (const auto& [node, c] : agent.membership().coordinates())
    if (members.count(node) || agent.store().node(node)) write_coord(w, node, c);
  w.end_array();
  respond(ex, json_with_index(std::move(body)));
}

void coordinate_node(Agent& agent, const ExchangePtr& ex, const std::string& node) {
  gossip::Coordinate c;
  if (!agent.membership().coordinate_of(node, c)) {
    respond_error(ex, 404, "");
    return;
  }
  std::string body;
  JsonWriter w(body, ex->request.has_param("pretty"));
  w.begin_array();
  write_coord(w, node, c);
  w.end_array();
  respond(ex, json_with_index(std::move(body)));
}

void coordinate_datacenters(Agent& agent, const ExchangePtr& ex, const std::string&) {
  std::string body;
  JsonWriter w(body, ex->request.has_param("pretty"));
  // Each datacenter's servers as the WAN pool places them ("<node>.<dc>").
  std::map<std::string, std::vector<std::pair<std::string, gossip::Coordinate>>> by_dc;
  if (auto* wan = agent.membership().wan()) {
    gossip::Coordinate c;
    for (const auto& m : wan->members()) {
      auto dc = m.tags.find("dc");
      if (dc != m.tags.end() && wan->coordinate_of(m.name, c))
        by_dc[dc->second].emplace_back(m.name, c);
    }
  }
  w.begin_array();
  for (const auto& dc : agent.membership().datacenters()) {
    w.begin_object();
    w.field("Datacenter", dc);
    w.field("AreaID", "wan");
    w.key("Coordinates");
    w.begin_array();
    for (const auto& [node, c] : by_dc[dc]) write_coord(w, node, c);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  respond_json(ex, std::move(body));
}

// Sets a node's coordinate, as agents do for themselves every sync. Like
// Consul's state store, an update for a node the catalog does not know is
// accepted and dropped.
void coordinate_update(Agent& agent, const ExchangePtr& ex, const std::string&) {
  std::string node, dc;
  gossip::Coordinate c;
  bool has_coord = false;
  if (!decode_json_body(ex, [&](Decoder& d, const Value& body) {
        d.object(body, [&](std::string_view k, const Value& f) {
          if (k == "node") node = d.str(f);
          else if (k == "datacenter") dc = d.str(f);
          else if (k == "coord" && !f.is_null()) {
            has_coord = true;
            d.object(f, [&](std::string_view ck, const Value& cv) {
              if (ck == "vec") d.array(cv, [&](const Value& x) { c.vec.push_back(d.number(x)); });
              else if (ck == "error") c.error = d.number(cv);
              else if (ck == "adjustment") c.adjustment = d.number(cv);
              else if (ck == "height") c.height = d.number(cv);
              return true;
            });
          }
          return true;
        });
      }))
    return;
  if (const std::string* q = ex->request.param("dc")) dc = *q;  // ?dc wins, as parseDC does
  if (!check_datacenter(ex, agent, dc)) return;
  if (!has_coord || !c.valid()) {
    respond_error(ex, 500, "invalid coordinate");
    return;
  }
  if (c.vec.size() != gossip::CoordinateConfig{}.dimensionality) {
    respond_error(ex, 500, "rejected bad coordinate: " + go_value_text(c));
    return;
  }
  const state::Store& st = agent.store();
  if (st.node(node))
    agent.membership().update_coordinate(
        node, std::move(c), [&st](const std::string& n) { return st.node(n) != nullptr; });
  respond_empty(ex);
}

}  // namespace

void add_coordinate_routes(Router& r, Agent& agent) {
  r.add("GET", "/v1/coordinate/nodes", bind_endpoint(agent, coordinate_nodes));
  r.add("GET", "/v1/coordinate/node/", bind_endpoint(agent, coordinate_node));
  r.add("GET", "/v1/coordinate/datacenters", bind_endpoint(agent, coordinate_datacenters));
  r.add("PUT", "/v1/coordinate/update", bind_endpoint(agent, coordinate_update));
}

}  // namespace cairn::http_api
