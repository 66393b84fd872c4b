#include "agent/gossip/serf_messages.h"

namespace cairn::gossip {

namespace {

void type_byte(SerfMsg t, std::string& out) {
  out.push_back(static_cast<char>(t));
}

template <class F>
bool walk(const msgpack::object* o, F&& field) {
  if (o == nullptr || o->type != msgpack::type::MAP) return false;
  for (uint32_t i = 0; i < o->via.map.size; ++i) {
    std::string_view k;
    if (!mp_key(o->via.map.ptr[i].key, k)) return false;
    if (!field(k, o->via.map.ptr[i].val)) return false;
  }
  return true;
}

template <class F>
bool walk_map(Bytes body, MsgpackReader& r, F&& field) {
  size_t off = 0;
  return walk(r.next(body, off), field);
}

bool string_list(const msgpack::object& v, std::vector<std::string_view>& out) {
  out.clear();
  if (v.type == msgpack::type::NIL) return true;
  if (v.type != msgpack::type::ARRAY) return false;
  for (uint32_t i = 0; i < v.via.array.size; ++i) {
    std::string_view s;
    if (!mp_bytes(v.via.array.ptr[i], s)) return false;
    out.push_back(s);
  }
  return true;
}

bool tags_map(const msgpack::object& v, Tags& out) {
  out.clear();
  if (v.type == msgpack::type::NIL) return true;
  if (v.type != msgpack::type::MAP) return false;
  for (uint32_t i = 0; i < v.via.map.size; ++i) {
    std::string_view k, val;
    if (!mp_bytes(v.via.map.ptr[i].key, k) || !mp_bytes(v.via.map.ptr[i].val, val)) return false;
    out.emplace(k, val);
  }
  return true;
}

}  // namespace

void encode(const SerfLeave& m, std::string& out) {
  type_byte(SerfMsg::leave, out);
  MsgpackWriter w(out);
  w.map(3);
  w.str("LTime"), w.uint(m.ltime);
  w.str("Node"), w.str(m.node);
  w.str("Prune"), w.boolean(m.prune);
}

void encode(const SerfJoin& m, std::string& out) {
  type_byte(SerfMsg::join, out);
  MsgpackWriter w(out);
  w.map(2);
  w.str("LTime"), w.uint(m.ltime);
  w.str("Node"), w.str(m.node);
}

void encode(const SerfUserEvent& m, std::string& out) {
  type_byte(SerfMsg::user_event, out);
  MsgpackWriter w(out);
  w.map(4);
  w.str("CC"), w.boolean(m.cc);
  w.str("LTime"), w.uint(m.ltime);
  w.str("Name"), w.str(m.name);
  w.str("Payload"), w.bytes_or_nil(m.payload);
}

void encode(const SerfQuery& m, std::string& out) {
  type_byte(SerfMsg::query, out);
  MsgpackWriter w(out);
  w.map(11);
  w.str("Addr"), w.bytes_or_nil(m.addr);
  w.str("Filters");
  if (m.filters.empty()) {
    w.nil();
  } else {
    w.array(uint32_t(m.filters.size()));
    for (auto f : m.filters) w.str(f);
  }
  w.str("Flags"), w.uint(m.flags);
  w.str("ID"), w.uint(m.id);
  w.str("LTime"), w.uint(m.ltime);
  w.str("Name"), w.str(m.name);
  w.str("Payload"), w.bytes_or_nil(m.payload);
  w.str("Port"), w.uint(m.port);
  w.str("RelayFactor"), w.uint(m.relay_factor);
  w.str("SourceNode"), w.str(m.source_node);
  w.str("Timeout"), w.sint(m.timeout_ns);
}

void encode(const SerfQueryResponse& m, std::string& out) {
  type_byte(SerfMsg::query_response, out);
  MsgpackWriter w(out);
  w.map(5);
  w.str("Flags"), w.uint(m.flags);
  w.str("From"), w.str(m.from);
  w.str("ID"), w.uint(m.id);
  w.str("LTime"), w.uint(m.ltime);
  w.str("Payload"), w.bytes_or_nil(m.payload);
}

void encode(const SerfPushPull& m, std::string& out) {
  type_byte(SerfMsg::push_pull, out);
  MsgpackWriter w(out);
  w.map(6);
  w.str("EventLTime"), w.uint(m.event_ltime);
  w.str("Events");
  if (m.events.empty()) {
    w.nil();
  } else {
    w.array(uint32_t(m.events.size()));
    for (const SerfEventSlot* slot : m.events) {
      if (slot == nullptr) {
        w.nil();
        continue;
      }
      w.map(2);
      w.str("Events"), w.array(uint32_t(slot->events.size()));
      for (const auto& [name, payload] : slot->events) {
        w.map(2);
        w.str("Name"), w.str(name);
        w.str("Payload"), w.bytes_or_nil(payload);
      }
      w.str("LTime"), w.uint(slot->ltime);
    }
  }
  w.str("LTime"), w.uint(m.ltime);
  w.str("LeftMembers"), w.array(uint32_t(m.left_members.size()));
  for (auto n : m.left_members) w.str(n);
  w.str("QueryLTime"), w.uint(m.query_ltime);
  w.str("StatusLTimes"), w.map(uint32_t(m.status_ltimes.size()));
  for (const auto& [n, t] : m.status_ltimes) w.str(n), w.uint(t);
}

void encode(const SerfMemberMsg& m, std::string& out) {
  type_byte(SerfMsg::conflict_response, out);
  MsgpackWriter w(out);
  w.map(11);
  w.str("Addr"), w.bytes_or_nil(m.addr);
  w.str("DelegateCur"), w.uint(m.vsn[5]);
  w.str("DelegateMax"), w.uint(m.vsn[4]);
  w.str("DelegateMin"), w.uint(m.vsn[3]);
  w.str("Name"), w.str(m.name);
  w.str("Port"), w.uint(m.port);
  w.str("ProtocolCur"), w.uint(m.vsn[2]);
  w.str("ProtocolMax"), w.uint(m.vsn[1]);
  w.str("ProtocolMin"), w.uint(m.vsn[0]);
  w.str("Status"), w.sint(m.status);
  w.str("Tags"), w.map(uint32_t(m.tags.size()));
  for (const auto& [k, v] : m.tags) w.str(k), w.str(v);
}

void encode(const SerfKeyResponse& m, std::string& out) {
  type_byte(SerfMsg::key_response, out);
  MsgpackWriter w(out);
  w.map(4);
  w.str("Keys");
  if (m.keys.empty()) {
    w.nil();
  } else {
    w.array(uint32_t(m.keys.size()));
    for (const auto& k : m.keys) w.str(k);
  }
  w.str("Message"), w.str(m.message);
  w.str("PrimaryKey"), w.str(m.primary_key);
  w.str("Result"), w.boolean(m.result);
}

bool decode(Bytes b, MsgpackReader& r, SerfLeave& m) {
  return walk_map(b, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "LTime") return mp_u(v, m.ltime);
    if (k == "Node") return mp_bytes(v, m.node);
    if (k == "Prune") return mp_bool(v, m.prune);
    return true;
  });
}

bool decode(Bytes b, MsgpackReader& r, SerfJoin& m) {
  return walk_map(b, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "LTime") return mp_u(v, m.ltime);
    if (k == "Node") return mp_bytes(v, m.node);
    return true;
  });
}

bool decode(Bytes b, MsgpackReader& r, SerfUserEvent& m) {
  return walk_map(b, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "LTime") return mp_u(v, m.ltime);
    if (k == "Name") return mp_bytes(v, m.name);
    if (k == "Payload") return mp_bytes(v, m.payload);
    if (k == "CC") return mp_bool(v, m.cc);
    return true;
  });
}

bool decode(Bytes b, MsgpackReader& r, SerfQuery& m) {
  return walk_map(b, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "LTime") return mp_u(v, m.ltime);
    if (k == "ID") return mp_u(v, m.id);
    if (k == "Addr") return mp_bytes(v, m.addr);
    if (k == "Port") return mp_u(v, m.port);
    if (k == "SourceNode") return mp_bytes(v, m.source_node);
    if (k == "Filters") return string_list(v, m.filters);
    if (k == "Flags") return mp_u(v, m.flags);
    if (k == "RelayFactor") return mp_u(v, m.relay_factor);
    if (k == "Timeout") return mp_int(v, m.timeout_ns);
    if (k == "Name") return mp_bytes(v, m.name);
    if (k == "Payload") return mp_bytes(v, m.payload);
    return true;
  });
}

bool decode(Bytes b, MsgpackReader& r, SerfQueryResponse& m) {
  return walk_map(b, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "LTime") return mp_u(v, m.ltime);
    if (k == "ID") return mp_u(v, m.id);
    if (k == "From") return mp_bytes(v, m.from);
    if (k == "Flags") return mp_u(v, m.flags);
    if (k == "Payload") return mp_bytes(v, m.payload);
    return true;
  });
}

bool decode(Bytes b, MsgpackReader& r, SerfPushPull& m) {
  return walk_map(b, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "LTime") return mp_u(v, m.ltime);
    if (k == "EventLTime") return mp_u(v, m.event_ltime);
    if (k == "QueryLTime") return mp_u(v, m.query_ltime);
    if (k == "LeftMembers") return string_list(v, m.left_members);
    if (k == "StatusLTimes") {
      m.status_ltimes.clear();
      if (v.type == msgpack::type::NIL) return true;
      if (v.type != msgpack::type::MAP) return false;
      for (uint32_t i = 0; i < v.via.map.size; ++i) {
        std::string_view n;
        uint64_t t;
        if (!mp_bytes(v.via.map.ptr[i].key, n) || !mp_u(v.via.map.ptr[i].val, t)) return false;
        m.status_ltimes.emplace_back(n, t);
      }
      return true;
    }
    if (k == "Events") {
      m.decoded_events.clear();
      if (v.type == msgpack::type::NIL) return true;
      if (v.type != msgpack::type::ARRAY) return false;
      for (uint32_t i = 0; i < v.via.array.size; ++i) {
        const auto& slot = v.via.array.ptr[i];
        if (slot.type == msgpack::type::NIL) continue;
        SerfEventSlot s;
        const bool ok = walk(&slot, [&](std::string_view sk, const msgpack::object& sv) {
          if (sk == "LTime") return mp_u(sv, s.ltime);
          if (sk != "Events") return true;
          if (sv.type == msgpack::type::NIL) return true;
          if (sv.type != msgpack::type::ARRAY) return false;
          for (uint32_t j = 0; j < sv.via.array.size; ++j) {
            std::string_view name, payload;
            const bool ev_ok =
                walk(&sv.via.array.ptr[j], [&](std::string_view ek, const msgpack::object& evv) {
                  if (ek == "Name") return mp_bytes(evv, name);
                  if (ek == "Payload") return mp_bytes(evv, payload);
                  return true;
                });
            if (!ev_ok) return false;
            s.events.emplace_back(name, payload);
          }
          return true;
        });
        if (!ok) return false;
        m.decoded_events.push_back(std::move(s));
      }
      return true;
    }
    return true;
  });
}

bool decode(Bytes b, MsgpackReader& r, SerfMemberMsg& m) {
  return walk_map(b, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "Name") return mp_bytes(v, m.name);
    if (k == "Addr") return mp_bytes(v, m.addr);
    if (k == "Port") return mp_u(v, m.port);
    if (k == "Tags") return tags_map(v, m.tags);
    if (k == "Status") return mp_int(v, m.status);
    if (k == "ProtocolMin") return mp_u(v, m.vsn[0]);
    if (k == "ProtocolMax") return mp_u(v, m.vsn[1]);
    if (k == "ProtocolCur") return mp_u(v, m.vsn[2]);
    if (k == "DelegateMin") return mp_u(v, m.vsn[3]);
    if (k == "DelegateMax") return mp_u(v, m.vsn[4]);
    if (k == "DelegateCur") return mp_u(v, m.vsn[5]);
    return true;
  });
}

bool decode_key_request(Bytes b, MsgpackReader& r, std::string& key) {
  return walk_map(b, r, [&](std::string_view k, const msgpack::object& v) {
    if (k != "Key") return true;
    std::string_view s;
    if (!mp_bytes(v, s)) return false;
    key.assign(s);
    return true;
  });
}

std::string encode_tags(const Tags& tags) {
  std::string out(1, static_cast<char>(kTagMagicByte));
  MsgpackWriter w(out);
  w.map(uint32_t(tags.size()));
  for (const auto& [k, v] : tags) w.str(k), w.str(v);
  return out;
}

Tags decode_tags(std::string_view meta) {
  Tags tags;
  if (meta.empty() || uint8_t(meta[0]) != kTagMagicByte) {
    tags["role"] = std::string(meta);  // pre-tags Serf: the meta is the role
    return tags;
  }
  MsgpackReader r;
  size_t off = 0;
  const msgpack::object* o = r.next(as_bytes(meta.substr(1)), off);
  if (o != nullptr) tags_map(*o, tags);
  return tags;
}

}  // namespace cairn::gossip
