#include "agent/forward/catalog_stream.h"

#include "agent/forward/wire_bytes.h"

#include "agent/server/etcd_rows.h"
#include "agent/server/etcd_txn.h"
#include "agent/state/catalog_replica.h"
#include "common/log.h"

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
  bool snapshot = kind != CatalogMessageKind::batch;
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
  flush(snapshot ? CatalogMessageKind::snapshot_end : CatalogMessageKind::batch);
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
  if (kind < 1 || kind > 3) return stream_error(EnvelopeStatus::Code::bad_field, "unknown kind");
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

// ---------------------------------------------------------------------------
// Server side.

void CatalogPublisher::attach(rpc::Server& server) {
  server.handle_stream(
      std::string(kCatalogWatchMethod),
      [this](rpc::Request&&, rpc::StreamWriter writer) { add(std::move(writer)); });
}

void CatalogPublisher::send_snapshot(rpc::StreamWriter& writer) {
  state::Batch rows = state::catalog_snapshot(store_);
  for (const auto& msg :
       encode_catalog_messages(CatalogMessageKind::snapshot_part, store_.index(), rows))
    writer.send(msg);
}

void CatalogPublisher::add(rpc::StreamWriter writer) {
  send_snapshot(writer);
  watchers_.push_back(std::move(writer));
}

void CatalogPublisher::on_batch(std::span<const state::Mutation> batch, uint64_t index) {
  std::erase_if(watchers_, [](const rpc::StreamWriter& w) { return !w.open(); });
  if (watchers_.empty()) return;
  state::Batch catalog;
  for (const auto& m : batch)
    if (state::is_catalog_mutation(m)) catalog.push_back(m);
  if (catalog.empty()) return;
  auto msgs = encode_catalog_messages(CatalogMessageKind::batch, index, catalog);
  for (auto& w : watchers_) {
    if (w.queued_bytes() > kMaxQueuedBytes) {
      w.close({rpc::Status::Code::exhausted, "the client reads the catalog stream too slowly"});
      continue;
    }
    for (const auto& msg : msgs) w.send(msg);
  }
}

void CatalogPublisher::on_snapshot() {
  std::erase_if(watchers_, [](const rpc::StreamWriter& w) { return !w.open(); });
  for (auto& w : watchers_) send_snapshot(w);
}

// ---------------------------------------------------------------------------
// Client side.

CatalogMirror::CatalogMirror(uv_loop_t* loop, Forwarder& forwarder, state::Store& store)
    : loop_(loop), forwarder_(forwarder), store_(store), rewatch_timer_(loop) {}

uint64_t CatalogMirror::age_ms() const {
  if (current()) return 0;
  if (ended_at_ms_ == 0) return 0;
  return uv_now(loop_) - ended_at_ms_;
}

CatalogMirror::~CatalogMirror() {
  *alive_ = false;
}

void CatalogMirror::servers_changed() {
  if (!stream_.active() && !rewatch_timer_.active()) watch();
}

void CatalogMirror::watch() {
  if (forwarder_.current_server() == nullptr) return;
  pending_snapshot_.clear();
  stream_ = forwarder_.open_stream(
      kCatalogWatchMethod, {},
      [this, alive = alive_](std::string_view message) {
        if (*alive) on_message(message);
      },
      [this, alive = alive_](const rpc::Status& status) {
        if (*alive) on_end(status);
      });
}

void CatalogMirror::on_message(std::string_view message) {
  CatalogMessage msg;
  EnvelopeStatus st = decode_catalog_message(message, msg);
  if (!st.ok()) {
    log::warn("agent", "a bad catalog stream message; watching again", {{"error", st.message}});
    stream_.cancel();
    on_end({rpc::Status::Code::internal, st.message});
    return;
  }
  switch (msg.kind) {
    case CatalogMessageKind::snapshot_part:
      for (auto& m : msg.rows) pending_snapshot_.push_back(std::move(m));
      return;
    case CatalogMessageKind::snapshot_end:
      for (auto& m : msg.rows) pending_snapshot_.push_back(std::move(m));
      store_.load_snapshot(pending_snapshot_, msg.index);
      pending_snapshot_.clear();
      pending_snapshot_.shrink_to_fit();
      loaded_ = true;
      ended_at_ms_ = 0;
      ++snapshots_;
      return;
    case CatalogMessageKind::batch:
      if (loaded_ && msg.index > store_.index()) store_.apply(msg.rows, msg.index);
      return;
  }
}

void CatalogMirror::on_end(const rpc::Status& status) {
  log::warn("agent", "the catalog stream from the server ended; watching again",
            {{"status", status.to_string()}});
  if (!status.ok()) forwarder_.server_failed();
  if (ended_at_ms_ == 0) ended_at_ms_ = uv_now(loop_);
  rewatch_timer_.start(kRewatchMs, 0, [this] { watch(); });
}

}  // namespace cairn::forward
