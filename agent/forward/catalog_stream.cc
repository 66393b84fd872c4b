#include "agent/forward/catalog_stream.h"

#include "agent/forward/wire_bytes.h"

#include "agent/server/etcd_rows.h"
#include "agent/server/etcd_txn.h"
#include "agent/state/catalog_replica.h"

namespace cairn::forward {

namespace {

using wire::put_be;
using wire::put_str;
using wire::take_be;
using wire::take_str;

void put_u8(std::string& out, uint8_t v) {
  out.push_back(static_cast<char>(v));
}

state::RaftIndex raft_of(const state::Mutation& m) {
  return std::visit(
      [](const auto& x) -> state::RaftIndex {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, state::PutNode>)
          return x.node.raft;
        else if constexpr (std::is_same_v<T, state::PutService>)
          return x.service.raft;
        else if constexpr (std::is_same_v<T, state::PutCheck>)
          return x.check.raft;
        else if constexpr (std::is_same_v<T, state::PutPreparedQuery>)
          return x.query.raft;
        else
          return {};
      },
      m);
}

void start_message(std::string& out, CatalogMessageKind kind, uint64_t index, size_t rows) {
  put_u8(out, kEnvelopeVersion);
  put_u8(out, static_cast<uint8_t>(kind));
  put_be(out, index, 8);
  put_be(out, rows, 4);
}

EnvelopeStatus stream_error(EnvelopeStatus::Code code, std::string message) {
  return {code, "catalog stream: " + std::move(message)};
}

}  // namespace

std::vector<std::string> encode_catalog_messages(CatalogMessageKind kind, uint64_t index,
                                                 std::span<const state::Mutation> rows,
                                                 size_t max_bytes) {
  std::vector<std::string> out;
  std::string body;
  size_t count = 0;
  auto flush = [&](CatalogMessageKind k) {
    std::string msg;
    start_message(msg, k, index, count);
    msg += body;
    out.push_back(std::move(msg));
    body.clear();
    count = 0;
  };
  bool snapshot =
      kind == CatalogMessageKind::snapshot_part || kind == CatalogMessageKind::snapshot_end;
  for (const auto& m : rows) {
    server::RowOp op;
    if (!server::row_op_of(m, op)) continue;
    state::RaftIndex raft = raft_of(m);
    put_u8(body, op.is_delete ? 1 : 0);
    put_str(body, op.key);
    put_str(body, op.value);
    put_be(body, raft.create_index, 8);
    put_be(body, raft.modify_index, 8);
    ++count;
    // A change batch stays one message: it must be applied whole, at its index.
    if (snapshot && body.size() >= max_bytes) flush(CatalogMessageKind::snapshot_part);
  }
  flush(snapshot ? CatalogMessageKind::snapshot_end : kind);
  return out;
}

EnvelopeStatus decode_catalog_message(std::string_view in, CatalogMessage& out) {
  uint64_t version = 0, kind = 0, index = 0, n = 0;
  if (!take_be(in, 1, version))
    return stream_error(EnvelopeStatus::Code::truncated, "empty message");
  if (version != kEnvelopeVersion)
    return stream_error(EnvelopeStatus::Code::bad_version, "version " + std::to_string(version));
  if (!take_be(in, 1, kind) || !take_be(in, 8, index) || !take_be(in, 4, n))
    return stream_error(EnvelopeStatus::Code::truncated, "truncated header");
  if (kind < 1 || kind > 4) return stream_error(EnvelopeStatus::Code::bad_field, "unknown kind");
  // Each row takes at least 25 bytes: a count beyond that is a lie.
  if (n > in.size() / 25)
    return stream_error(EnvelopeStatus::Code::bad_field, "row count too large");
  out.kind = static_cast<CatalogMessageKind>(kind);
  out.index = index;
  out.rows.clear();
  out.rows.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t is_delete = 0, create = 0, modify = 0;
    etcd::KeyValue kv;
    if (!take_be(in, 1, is_delete) || !take_str(in, kv.key) || !take_str(in, kv.value) ||
        !take_be(in, 8, create) || !take_be(in, 8, modify))
      return stream_error(EnvelopeStatus::Code::truncated, "truncated row");
    kv.create_revision = static_cast<int64_t>(std::max<uint64_t>(create, 1));
    kv.mod_revision = static_cast<int64_t>(std::max<uint64_t>(modify, 1));
    kv.version = 1;
    state::Mutation m;
    server::RowStatus rs =
        is_delete ? server::decode_row_delete(kv.key, m) : server::decode_row(kv, m);
    if (rs.code == server::RowStatus::Code::ignored) continue;
    if (!rs.ok())
      return stream_error(EnvelopeStatus::Code::bad_field, "row " + kv.key + ": " + rs.error);
    if (!state::is_catalog_mutation(m))
      return stream_error(EnvelopeStatus::Code::bad_field, "not a catalog row: " + kv.key);
    out.rows.push_back(std::move(m));
  }
  if (!in.empty()) return stream_error(EnvelopeStatus::Code::bad_field, "bytes after the rows");
  return {};
}

std::string encode_watch_request(const WatchRequest& request) {
  std::string out;
  put_u8(out, kEnvelopeVersion);
  put_u8(out, request.only_topics ? 1 : 0);
  put_be(out, request.from_index, 8);
  put_be(out, request.topics.size(), 4);
  for (const auto& t : request.topics) {
    put_u8(out, t.held ? 1 : 0);
    put_str(out, t.service);
  }
  return out;
}

EnvelopeStatus decode_watch_request(std::string_view in, WatchRequest& out) {
  out = {};
  if (in.empty()) return {};
  uint64_t version = 0, flags = 0, n = 0;
  if (!take_be(in, 1, version) || version != kEnvelopeVersion)
    return stream_error(EnvelopeStatus::Code::bad_version, "watch request version");
  if (!take_be(in, 1, flags) || !take_be(in, 8, out.from_index) || !take_be(in, 4, n))
    return stream_error(EnvelopeStatus::Code::truncated, "truncated watch request");
  if (flags > 1) return stream_error(EnvelopeStatus::Code::bad_field, "unknown watch flags");
  // Each topic takes at least 5 bytes: a count beyond that, or the limit, is refused.
  if (n > kMaxWatchTopics || n > in.size() / 5)
    return stream_error(EnvelopeStatus::Code::bad_field, "too many topics");
  out.only_topics = flags == 1;
  out.topics.resize(n);
  for (auto& t : out.topics) {
    uint64_t held = 0;
    if (!take_be(in, 1, held) || !take_str(in, t.service))
      return stream_error(EnvelopeStatus::Code::truncated, "truncated topic");
    if (held > 1) return stream_error(EnvelopeStatus::Code::bad_field, "topic flag");
    if (t.service.size() > kMaxTopicBytes)
      return stream_error(EnvelopeStatus::Code::bad_field, "topic too long");
    t.held = held == 1;
  }
  if (!in.empty()) return stream_error(EnvelopeStatus::Code::bad_field, "bytes after the topics");
  return {};
}

}  // namespace cairn::forward
