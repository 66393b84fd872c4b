#include "agent/server/join_request.h"

#include "common/json_fields.h"
#include "common/json_writer.h"

namespace cairn::server {

namespace {

// Runs read over payload's top-level object; "" or the first problem.
template <typename Read>
std::string read_object(std::string_view payload, Read&& read) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parse_document(parser, payload).get_object().get(o)) return "not a JSON object";
  std::string why;
  FieldReader r(why);
  read(r, o);
  return why;
}

}  // namespace

std::string encode_join_request(const JoinRequest& r) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("Name", r.name);
  w.field("Datacenter", r.datacenter);
  w.field("PeerURL", r.peer_url);
  w.end_object();
  return out;
}

std::string decode_join_request(std::string_view payload, JoinRequest& out) {
  out = {};
  std::string err = read_object(payload, [&](FieldReader& r, simdjson::dom::object o) {
    r.text(o, "Name", out.name);
    r.text(o, "Datacenter", out.datacenter);
    r.text(o, "PeerURL", out.peer_url);
  });
  if (!err.empty()) return err;
  if (out.name.empty()) return "Name is missing";
  if (!out.peer_url.starts_with("http://") && !out.peer_url.starts_with("https://"))
    return "PeerURL must be an http(s) URL";
  return "";
}

std::string encode_join_answer(const JoinAnswer& a) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  if (!a.error.empty()) w.field("Error", a.error);
  w.key("Members");
  w.begin_array();
  for (const auto& [name, url] : a.initial_cluster) {
    w.begin_object();
    w.field("Name", name);
    w.field("PeerURL", url);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return out;
}

std::string decode_join_answer(std::string_view payload, JoinAnswer& out) {
  out = {};
  std::string err = read_object(payload, [&](FieldReader& r, simdjson::dom::object o) {
    r.text(o, "Error", out.error);
    r.objects(o, "Members", [&](simdjson::dom::object m) {
      std::pair<std::string, std::string> member;
      r.text(m, "Name", member.first);
      r.text(m, "PeerURL", member.second);
      out.initial_cluster.push_back(std::move(member));
    });
  });
  if (!err.empty()) return err;
  if (out.error.empty() && out.initial_cluster.empty()) return "Members is empty";
  for (const auto& [name, url] : out.initial_cluster)
    if (name.empty() || url.empty()) return "a member without Name or PeerURL";
  return "";
}

}  // namespace cairn::server
