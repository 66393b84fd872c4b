// Membership over gossip: /v1/agent/members, join, leave, force-leave,
// /v1/event (user events) and /v1/operator/keyring.
#include "agent/agent.h"
#include "agent/http/decode_body.h"
#include "agent/http/endpoints.h"
#include "agent/http/query_options.h"
#include "agent/http/reply.h"
#include "agent/http/result_filter.h"
#include "agent/membership.h"
#include "agent/user_event_filter.h"
#include "agent/user_event_index.h"
#include "common/base64.h"
#include "common/random.h"
#include "common/uv_handle.h"

namespace cairn::http_api {

void write_member(JsonWriter& w, const gossip::Member& m) {
  w.begin_object();
  w.field("Name", m.name);
  w.field("Addr", m.addr.ip_str());
  w.field("Port", static_cast<int>(m.addr.port));
  w.key("Tags");
  w.begin_object();
  for (const auto& [k, v] : m.tags) w.field(k, v);
  w.end_object();
  w.field("Status", static_cast<int>(m.status));
  const char* names[] = {"ProtocolMin", "ProtocolMax", "ProtocolCur",
                         "DelegateMin", "DelegateMax", "DelegateCur"};
  for (size_t i = 0; i < 6; ++i) w.field(names[i], static_cast<int>(m.vsn[i]));
  w.end_object();
}

namespace {

void write_event(JsonWriter& w, const UserEvent& e) {
  w.begin_object();
  w.field("ID", e.id);
  w.field("Name", e.name);
  w.key("Payload");
  if (e.payload.empty())
    w.null();
  else
    w.string(base64_encode(e.payload));
  w.field("NodeFilter", e.node_filter);
  w.field("ServiceFilter", e.service_filter);
  w.field("TagFilter", e.tag_filter);
  w.field("Version", e.version);
  w.field("LTime", e.ltime);
  w.end_object();
}

// The listed events (all, or those named name) and Consul's index of the list:
// the last listed event's ID as a number, 1 when none is listed.
struct EventList {
  std::vector<const UserEvent*> events;
  uint64_t index = 1;
};

EventList list_events(const Membership& m, const std::string& name) {
  EventList out;
  for (const auto& e : m.events())
    if (name.empty() || e.name == name) out.events.push_back(&e);
  if (!out.events.empty()) out.index = user_event_index(out.events.back()->id);
  return out;
}

http::Response event_list_response(const EventList& list, bool pretty) {
  std::string body;
  JsonWriter w(body, pretty);
  w.begin_array();
  for (const UserEvent* e : list.events) write_event(w, *e);
  w.end_array();
  http::Response r = http::Response::json(std::move(body));
  r.set_header("X-Consul-Index", std::to_string(list.index));
  return r;
}

// A parked /v1/event/list: answers once the list's index differs from the
// client's (an event of another name does not count) or when the wait ends.
struct ParkedEventList : std::enable_shared_from_this<ParkedEventList> {
  ParkedEventList(Agent& a, ExchangePtr e, std::string n, bool p, uint64_t i)
      : agent(a),
        ex(std::move(e)),
        name(std::move(n)),
        pretty(p),
        client_index(i),
        timer(a.loop()) {}
  ~ParkedEventList() {
    if (wait_id) agent.membership().cancel_wait(wait_id);
  }
  void park(uint64_t ms) {
    auto self = shared_from_this();
    wait_next();
    std::weak_ptr<ParkedEventList> weak = self;
    timer.start(ms, 0, [weak] {
      if (auto p = weak.lock()) p->finish();
    });
    ex->on_close([self] {
      self->done = true;
      self->timer.stop();
      if (self->wait_id) self->agent.membership().cancel_wait(self->wait_id);
      self->wait_id = 0;
    });
  }
  void wait_next() {
    std::weak_ptr<ParkedEventList> weak = shared_from_this();
    wait_id = agent.membership().on_next_event([weak] {
      auto self = weak.lock();
      if (!self) return;
      self->wait_id = 0;
      if (self->done) return;
      if (list_events(self->agent.membership(), self->name).index == self->client_index)
        self->wait_next();
      else
        self->finish();
    });
  }
  void finish() {
    if (done) return;
    done = true;
    timer.stop();
    if (wait_id) agent.membership().cancel_wait(wait_id);
    wait_id = 0;
    respond(ex, event_list_response(list_events(agent.membership(), name), pretty));
  }
  Agent& agent;
  ExchangePtr ex;
  std::string name;
  bool pretty;
  uint64_t client_index;
  Timer timer;
  uint64_t wait_id = 0;
  bool done = false;
};

void agent_members(Agent& agent, const ExchangePtr& ex, const std::string&) {
  QueryOptions o;
  std::unique_ptr<ResultFilter> filter;
  std::string err = parse_query_options(ex->request, o);
  if (err.empty()) err = ResultFilter::compile(o.filter, filter);
  if (!err.empty()) {
    respond_error(ex, 400, err);
    return;
  }
  std::string body;
  ResultWriter out(body, o.pretty, filter.get());
  out.json().begin_array();
  bool wan = ex->request.has_param("wan");
  Membership& m = agent.membership();
  auto member = [&](const gossip::Member& g) {
    out.element([&](JsonWriter& w) { write_member(w, g); });
  };
  if (wan && m.wan()) {
    for (const auto& g : m.wan_members()) member(g);
  } else if (!wan && m.enabled()) {
    for (const auto& g : m.members()) member(g);
  } else if (!wan) {
    out.element([&](JsonWriter& w) { write_self_member(w, agent); });
  }
  out.json().end_array();
  respond_json(ex, std::move(body));
}

void agent_join(Agent& agent, const ExchangePtr& ex, const std::string& addr) {
  auto done = [ex, addr](int n, const std::string& err) {
    if (n > 0)
      respond_empty(ex);
    else
      respond_error(ex, 500, "Failed to join " + addr + ": " + err);
  };
  if (ex->request.has_param("wan") && !agent.is_server())
    respond_error(ex, 500, "Must be a server to join WAN cluster");
  else if (ex->request.has_param("wan"))
    agent.membership().join_wan({addr}, done);
  else
    agent.membership().join({addr}, done);
}

void agent_force_leave(Agent& agent, const ExchangePtr& ex, const std::string& node) {
  if (!agent.membership().force_leave(node, ex->request.has_param("wan"))) {
    respond_error(ex, 500, "agent: No node found with name '" + node + "'");
    return;
  }
  respond_empty(ex);
}

void agent_leave(Agent& agent, const ExchangePtr& ex, const std::string&) {
  agent.leave([&agent, ex] {
    respond_empty(ex);
    // Stop after the answer is on its way, as Consul does.
    auto* t = new uv_timer_t;
    uv_timer_init(agent.loop(), t);
    t->data = &agent;
    uv_timer_start(
        t,
        [](uv_timer_t* h) {
          static_cast<Agent*>(h->data)->request_stop();
          uv_close(reinterpret_cast<uv_handle_t*>(h),
                   [](uv_handle_t* hh) { delete reinterpret_cast<uv_timer_t*>(hh); });
        },
        50, 0);
  });
}

void event_fire(Agent& agent, const ExchangePtr& ex, const std::string& name) {
  if (name.empty()) {
    respond_error(ex, 400, "Missing name");
    return;
  }
  const http::Request& req = ex->request;
  UserEvent ev;
  ev.id = random_uuid();
  ev.name = name;
  ev.payload = req.body;
  if (const std::string* v = req.param("node")) ev.node_filter = *v;
  if (const std::string* v = req.param("service")) ev.service_filter = *v;
  if (const std::string* v = req.param("tag")) ev.tag_filter = *v;
  if (!ev.tag_filter.empty() && ev.service_filter.empty()) {
    respond_error(ex, 400, "Cannot provide tag filter without service filter");
    return;
  }
  // Consul refuses an event whose filters do not compile, with a 500 as for its other
  // validation errors, rather than gossiping it to every agent.
  if (UserEventFilterError bad; !UserEventFilter::compile(ev, bad)) {
    respond_error(ex, 500, bad.message());
    return;
  }
  if (std::string err = agent.membership().fire(ev); !err.empty()) {
    respond_error(ex, 500, err);
    return;
  }
  std::string body;
  JsonWriter w(body, req.has_param("pretty"));
  write_event(w, ev);
  respond_json(ex, std::move(body));
}

void event_list_endpoint(Agent& agent, const ExchangePtr& ex, const std::string&) {
  QueryOptions o;
  if (std::string err = parse_query_options(ex->request, o); !err.empty()) {
    respond_error(ex, 400, err);
    return;
  }
  std::string name;
  if (const std::string* n = ex->request.param("name")) name = *n;
  EventList list = list_events(agent.membership(), name);
  // Consul's events blocking: the index is not monotonic, so only an exact
  // match with the client's index waits.
  if (o.index == 0 || o.index != list.index || o.wait <= 0) {
    respond(ex, event_list_response(list, o.pretty));
    return;
  }
  auto parked = std::make_shared<ParkedEventList>(agent, ex, name, o.pretty, o.index);
  parked->park(static_cast<uint64_t>(o.wait / kMillisecond));
}

void keyring_list(Agent& agent, const ExchangePtr& ex, const std::string&) {
  std::string body;
  JsonWriter w(body, ex->request.has_param("pretty"));
  w.begin_array();
  // The WAN ring first, then the LAN ring, as Consul lists them.
  for (auto* pool : {agent.membership().wan(), agent.membership().lan()}) {
    if (!pool || !pool->keyring() || pool->keyring()->empty()) continue;
    auto* ring = pool->keyring();
    w.begin_object();
    w.field("WAN", pool == agent.membership().wan());
    w.field("Datacenter", agent.config().datacenter);
    w.field("Segment", "");
    w.key("Keys");
    w.begin_object();
    int members = static_cast<int>(pool->members().size());
    for (const auto& k : ring->keys()) w.field(gossip::Keyring::encode_base64(k), members);
    w.end_object();
    w.key("PrimaryKeys");
    w.begin_object();
    w.field(gossip::Keyring::encode_base64(ring->primary()), members);
    w.end_object();
    w.field("NumNodes", members);
    w.end_object();
  }
  w.end_array();
  respond_json(ex, std::move(body));
}

// Install (POST), use (PUT), remove (DELETE) a key on this agent's ring.
void keyring_change(Agent& agent, const ExchangePtr& ex, const std::string&) {
  const std::string& method = ex->request.method;
  Value body;
  if (!parse_json_body(ex, body)) return;
  const Value* key = body.find("key");
  if (!key || key->kind != Value::Kind::string) {
    respond_error(ex, 400, "Request decode failed: Key is required");
    return;
  }
  auto* lan = agent.membership().lan();
  if (!lan || !lan->keyring()) {
    respond_error(ex, 500, "Keyring is not enabled (start the agent with -encrypt)");
    return;
  }
  std::string raw = gossip::Keyring::decode_base64(key->s);
  if (raw.empty()) {
    respond_error(ex, 400, "Invalid key: must be base64 of 16, 24 or 32 bytes");
    return;
  }
  // Every pool of this agent (a server's WAN ring too) changes together.
  bool ok = true;
  for (auto* pool : {agent.membership().wan(), lan}) {
    if (!pool || !pool->keyring()) continue;
    auto* ring = pool->keyring();
    ok = (method == "POST"  ? ring->install(raw)
          : method == "PUT" ? ring->use(raw)
                            : ring->remove(raw)) &&
         ok;
  }
  if (!ok) {
    respond_error(ex, 500,
                  method == "DELETE" ? "Removing the primary key is not allowed"
                                     : "Key is not installed");
    return;
  }
  respond_empty(ex);
}

}  // namespace

void add_gossip_routes(Router& r, Agent& agent) {
  r.add("GET", "/v1/agent/members", bind_endpoint(agent, agent_members));
  r.add("PUT", "/v1/agent/join/", bind_endpoint(agent, agent_join));
  r.add("PUT", "/v1/agent/force-leave/", bind_endpoint(agent, agent_force_leave));
  r.add("PUT", "/v1/agent/leave", bind_endpoint(agent, agent_leave));
  r.add("PUT", "/v1/event/fire/", bind_endpoint(agent, event_fire));
  r.add("GET", "/v1/event/list", bind_endpoint(agent, event_list_endpoint));
  r.add("GET", "/v1/operator/keyring", bind_endpoint(agent, keyring_list));
  for (const char* method : {"POST", "PUT", "DELETE"})
    r.add(method, "/v1/operator/keyring", bind_endpoint(agent, keyring_change));
}

}  // namespace cairn::http_api
