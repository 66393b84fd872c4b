#include "agent/gossip/messages.h"

namespace cairn::gossip {

namespace {

void type_byte(MsgType t, std::string& out) {
  out.push_back(static_cast<char>(t));
}

// Calls field(key, value) for every entry of the map at body[off..].
template <class F>
bool walk_map(Bytes body, size_t& off, MsgpackReader& r, F&& field) {
  const msgpack::object* o = r.next(body, off);
  if (o == nullptr || o->type != msgpack::type::MAP) return false;
  for (uint32_t i = 0; i < o->via.map.size; ++i) {
    const auto& kv = o->via.map.ptr[i];
    std::string_view key;
    if (!mp_key(kv.key, key)) return false;
    if (!field(key, kv.val)) return false;
  }
  return true;
}

}  // namespace

// Keys below are in the byte order Go's codec sorts struct fields into.

void encode(const PingMsg& m, std::string& out) {
  type_byte(MsgType::ping, out);
  MsgpackWriter w(out);
  const bool addr = !m.source_addr.empty(), port = m.source_port != 0,
             node = !m.source_node.empty();
  w.map(2 + addr + port + node);
  w.str("Node"), w.str(m.node);
  w.str("SeqNo"), w.uint(m.seq_no);
  if (addr) w.str("SourceAddr"), w.str(m.source_addr);
  if (node) w.str("SourceNode"), w.str(m.source_node);
  if (port) w.str("SourcePort"), w.uint(m.source_port);
}

void encode(const IndirectPingMsg& m, std::string& out) {
  type_byte(MsgType::indirect_ping, out);
  MsgpackWriter w(out);
  const bool addr = !m.source_addr.empty(), port = m.source_port != 0,
             node = !m.source_node.empty();
  w.map(5 + addr + port + node);
  w.str("Nack"), w.boolean(m.nack);
  w.str("Node"), w.str(m.node);
  w.str("Port"), w.uint(m.port);
  w.str("SeqNo"), w.uint(m.seq_no);
  if (addr) w.str("SourceAddr"), w.str(m.source_addr);
  if (node) w.str("SourceNode"), w.str(m.source_node);
  if (port) w.str("SourcePort"), w.uint(m.source_port);
  w.str("Target"), w.bytes_or_nil(m.target);
}

void encode(const AckMsg& m, std::string& out) {
  type_byte(MsgType::ack, out);
  MsgpackWriter w(out);
  w.map(2);
  w.str("Payload"), w.bytes_or_nil(m.payload);
  w.str("SeqNo"), w.uint(m.seq_no);
}

void encode(const NackMsg& m, std::string& out) {
  type_byte(MsgType::nack, out);
  MsgpackWriter w(out);
  w.map(1);
  w.str("SeqNo"), w.uint(m.seq_no);
}

void encode(const SuspectMsg& m, std::string& out) {
  type_byte(MsgType::suspect, out);
  MsgpackWriter w(out);
  w.map(3);
  w.str("From"), w.str(m.from);
  w.str("Incarnation"), w.uint(m.incarnation);
  w.str("Node"), w.str(m.node);
}

void encode(const AliveMsg& m, std::string& out) {
  type_byte(MsgType::alive, out);
  MsgpackWriter w(out);
  w.map(6);
  w.str("Addr"), w.bytes_or_nil(m.addr);
  w.str("Incarnation"), w.uint(m.incarnation);
  w.str("Meta"), w.bytes_or_nil(m.meta);
  w.str("Node"), w.str(m.node);
  w.str("Port"), w.uint(m.port);
  w.str("Vsn"), w.bytes_or_nil(m.vsn);
}

void encode(const DeadMsg& m, std::string& out) {
  type_byte(MsgType::dead, out);
  MsgpackWriter w(out);
  w.map(3);
  w.str("From"), w.str(m.from);
  w.str("Incarnation"), w.uint(m.incarnation);
  w.str("Node"), w.str(m.node);
}

void encode(const PushPullHeader& m, std::string& out) {
  type_byte(MsgType::push_pull, out);
  MsgpackWriter w(out);
  w.map(3);
  w.str("Join"), w.boolean(m.join);
  w.str("Nodes"), w.sint(m.nodes);
  w.str("UserStateLen"), w.sint(m.user_state_len);
}

void encode(const PushNodeState& m, std::string& out) {
  MsgpackWriter w(out);
  w.map(7);
  w.str("Addr"), w.bytes_or_nil(m.addr);
  w.str("Incarnation"), w.uint(m.incarnation);
  w.str("Meta"), w.bytes_or_nil(m.meta);
  w.str("Name"), w.str(m.name);
  w.str("Port"), w.uint(m.port);
  w.str("State"), w.sint(m.state);
  w.str("Vsn"), w.bytes_or_nil(m.vsn);
}

void encode(const CompressMsg& m, std::string& out) {
  type_byte(MsgType::compress, out);
  MsgpackWriter w(out);
  w.map(2);
  w.str("Algo"), w.uint(m.algo);
  w.str("Buf"), w.bytes_or_nil(m.buf);
}

void encode(const ErrRespMsg& m, std::string& out) {
  type_byte(MsgType::err, out);
  MsgpackWriter w(out);
  w.map(1);
  w.str("Error"), w.str(m.error);
}

void encode(const UserMsgHeader& m, std::string& out) {
  MsgpackWriter w(out);
  w.map(1);
  w.str("UserMsgLen"), w.sint(m.user_msg_len);
}

bool decode(Bytes b, size_t& off, MsgpackReader& r, PingMsg& m) {
  return walk_map(b, off, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "SeqNo") return mp_u(v, m.seq_no);
    if (k == "Node") return mp_bytes(v, m.node);
    if (k == "SourceAddr") return mp_bytes(v, m.source_addr);
    if (k == "SourcePort") return mp_u(v, m.source_port);
    if (k == "SourceNode") return mp_bytes(v, m.source_node);
    return true;
  });
}

bool decode(Bytes b, size_t& off, MsgpackReader& r, IndirectPingMsg& m) {
  return walk_map(b, off, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "SeqNo") return mp_u(v, m.seq_no);
    if (k == "Target") return mp_bytes(v, m.target);
    if (k == "Port") return mp_u(v, m.port);
    if (k == "Node") return mp_bytes(v, m.node);
    if (k == "Nack") return mp_bool(v, m.nack);
    if (k == "SourceAddr") return mp_bytes(v, m.source_addr);
    if (k == "SourcePort") return mp_u(v, m.source_port);
    if (k == "SourceNode") return mp_bytes(v, m.source_node);
    return true;
  });
}

bool decode(Bytes b, size_t& off, MsgpackReader& r, AckMsg& m) {
  return walk_map(b, off, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "SeqNo") return mp_u(v, m.seq_no);
    if (k == "Payload") return mp_bytes(v, m.payload);
    return true;
  });
}

bool decode(Bytes b, size_t& off, MsgpackReader& r, NackMsg& m) {
  return walk_map(b, off, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "SeqNo") return mp_u(v, m.seq_no);
    return true;
  });
}

bool decode(Bytes b, size_t& off, MsgpackReader& r, SuspectMsg& m) {
  return walk_map(b, off, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "Incarnation") return mp_u(v, m.incarnation);
    if (k == "Node") return mp_bytes(v, m.node);
    if (k == "From") return mp_bytes(v, m.from);
    return true;
  });
}

bool decode(Bytes b, size_t& off, MsgpackReader& r, AliveMsg& m) {
  return walk_map(b, off, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "Incarnation") return mp_u(v, m.incarnation);
    if (k == "Node") return mp_bytes(v, m.node);
    if (k == "Addr") return mp_bytes(v, m.addr);
    if (k == "Port") return mp_u(v, m.port);
    if (k == "Meta") return mp_bytes(v, m.meta);
    if (k == "Vsn") return mp_bytes(v, m.vsn);
    return true;
  });
}

bool decode(Bytes b, size_t& off, MsgpackReader& r, DeadMsg& m) {
  return walk_map(b, off, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "Incarnation") return mp_u(v, m.incarnation);
    if (k == "Node") return mp_bytes(v, m.node);
    if (k == "From") return mp_bytes(v, m.from);
    return true;
  });
}

bool decode(Bytes b, size_t& off, MsgpackReader& r, PushPullHeader& m) {
  return walk_map(b, off, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "Nodes") return mp_int(v, m.nodes);
    if (k == "UserStateLen") return mp_int(v, m.user_state_len);
    if (k == "Join") return mp_bool(v, m.join);
    return true;
  });
}

bool decode(Bytes b, size_t& off, MsgpackReader& r, PushNodeState& m) {
  return walk_map(b, off, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "Name") return mp_bytes(v, m.name);
    if (k == "Addr") return mp_bytes(v, m.addr);
    if (k == "Port") return mp_u(v, m.port);
    if (k == "Meta") return mp_bytes(v, m.meta);
    if (k == "Incarnation") return mp_u(v, m.incarnation);
    if (k == "State") return mp_int(v, m.state);
    if (k == "Vsn") return mp_bytes(v, m.vsn);
    return true;
  });
}

bool decode(Bytes b, size_t& off, MsgpackReader& r, CompressMsg& m) {
  return walk_map(b, off, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "Algo") return mp_u(v, m.algo);
    if (k == "Buf") return mp_bytes(v, m.buf);
    return true;
  });
}

bool decode(Bytes b, size_t& off, MsgpackReader& r, ErrRespMsg& m) {
  return walk_map(b, off, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "Error") return mp_bytes(v, m.error);
    return true;
  });
}

bool decode(Bytes b, size_t& off, MsgpackReader& r, UserMsgHeader& m) {
  return walk_map(b, off, r, [&](std::string_view k, const msgpack::object& v) {
    if (k == "UserMsgLen") return mp_int(v, m.user_msg_len);
    return true;
  });
}

}  // namespace cairn::gossip
