#include "agent/forward/node_sync.h"

#include <uv.h>

#include <memory>

#include "agent/forward/wire_bytes.h"
#include "agent/server/etcd_rows.h"

namespace cairn::forward {

namespace {

using wire::put_str;

void put_u32(std::string& out, size_t v) {
  wire::put_be(out, v, 4);
}

bool take_u32(std::string_view& in, size_t& v) {
  uint64_t n = 0;
  if (!wire::take_be(in, 4, n)) return false;
  v = static_cast<size_t>(n);
  return true;
}

EnvelopeStatus sync_error(EnvelopeStatus::Code code, std::string message) {
  return {code, "node sync: " + std::move(message)};
}

EnvelopeStatus check_sync_error(EnvelopeStatus::Code code, std::string message) {
  return {code, "check sync: " + std::move(message)};
}

// One decoded row into the sync's node, services or checks.
EnvelopeStatus add_row(state::Mutation&& m, bool first, NodeSync& sync) {
  if (first) {
    auto* put = std::get_if<state::PutNode>(&m);
    if (!put) return sync_error(EnvelopeStatus::Code::bad_field, "the first row must be the node");
    sync.node = local::identity_of(put->node);
    sync.local = local::LocalState(sync.node.name);
    return {};
  }
  if (auto* s = std::get_if<state::PutService>(&m)) {
    if (s->service.node != sync.node.name)
      return sync_error(EnvelopeStatus::Code::bad_field, "a service of another node");
    local::LocalService ls;
    ls.service = std::move(s->service);
    sync.local.put_service(std::move(ls));
    return {};
  }
  if (auto* c = std::get_if<state::PutCheck>(&m)) {
    if (c->check.node != sync.node.name)
      return sync_error(EnvelopeStatus::Code::bad_field, "a check of another node");
    local::LocalCheck lc;
    lc.check = std::move(c->check);
    sync.local.put_check(std::move(lc));
    return {};
  }
  return sync_error(EnvelopeStatus::Code::bad_field,
                    "only service and check rows may follow the node");
}

// The v2 section: checks whose output the server leaves as its catalog has it.
EnvelopeStatus take_deferred_outputs(std::string_view& in, NodeSync& sync) {
  size_t m = 0;
  if (!take_u32(in, m)) return sync_error(EnvelopeStatus::Code::truncated, "no deferred count");
  if (m > sync.local.checks().size())
    return sync_error(EnvelopeStatus::Code::bad_field, std::to_string(m) + " deferred checks");
  for (size_t i = 0; i < m; ++i) {
    std::string id;
    if (!wire::take_str(in, id))
      return sync_error(EnvelopeStatus::Code::truncated, "truncated deferred check");
    if (!sync.local.check(id))
      return sync_error(EnvelopeStatus::Code::bad_field, "deferred check " + id + " not synced");
    sync.deferred_outputs.insert(std::move(id));
  }
  return {};
}

void answer_sync(rpc::Responder responder, const server::WriteResult& r) {
  responder.reply(encode_write_result(r));
}

void run_node_sync(server::CatalogWriter& writer, Summary* timer, rpc::Request&& call,
                   rpc::Responder responder) {
  uint64_t started_ns = uv_hrtime();
  auto sync = std::make_shared<NodeSync>();
  EnvelopeStatus st = decode_node_sync(call.body, *sync);
  if (!st.ok()) {
    responder.fail({rpc::Status::Code::bad_request, st.message});
    return;
  }
  writer.write(
      [sync](const state::Store& store, int64_t, state::Batch& out) {
        local::OutputDeferred deferred;
        if (!sync->deferred_outputs.empty())
          deferred = [&set = sync->deferred_outputs](const std::string& id) {
            return set.count(id) > 0;
          };
        return server::PlanStatus(local::plan_sync(store, sync->node, sync->local, out, deferred));
      },
      [responder, timer, started_ns](const server::WriteResult& r) {
        if (timer) timer->observe(static_cast<double>(uv_hrtime() - started_ns) / 1e6);
        answer_sync(responder, r);
      });
}

void run_check_sync(server::CatalogWriter& writer, Summary* timer, rpc::Request&& call,
                    rpc::Responder responder) {
  uint64_t started_ns = uv_hrtime();
  auto sync = std::make_shared<CheckSync>();
  EnvelopeStatus st = decode_check_sync(call.body, *sync);
  if (!st.ok()) {
    responder.fail({rpc::Status::Code::bad_request, st.message});
    return;
  }
  writer.write(
      [sync](const state::Store& store, int64_t, state::Batch& out) {
        if (!local::plan_check_updates(store, sync->node, sync->updates, out))
          return server::PlanStatus(server::WriteCode::not_found,
                                    "node " + sync->node +
                                        " or one of its checks is not in the "
                                        "catalog: a full sync is needed");
        return server::PlanStatus();
      },
      [responder, timer, started_ns](const server::WriteResult& r) {
        if (timer) timer->observe(static_cast<double>(uv_hrtime() - started_ns) / 1e6);
        answer_sync(responder, r);
      });
}

}  // namespace

void encode_node_sync(const local::NodeIdentity& ident, const local::LocalState& local,
                      std::string& out, const local::OutputDeferred& deferred) {
  state::Node node = local::node_row(ident);
  out.push_back(static_cast<char>(kNodeSyncVersion));
  put_u32(out, 1 + local.services().size() + local.checks().size());
  put_str(out, server::node_row_key(node.name));
  put_str(out, server::encode_row(node));
  for (const auto& [id, ls] : local.services()) {
    state::Service svc = ls.service;
    svc.node = ident.name;
    put_str(out, server::service_row_key(ident.name, id));
    put_str(out, server::encode_row(svc));
  }
  std::vector<const std::string*> waiting;
  for (const auto& [id, lc] : local.checks()) {
    state::Check c = lc.check;
    c.node = ident.name;
    put_str(out, server::check_row_key(ident.name, id));
    put_str(out, server::encode_row(c));
    if (deferred && deferred(id)) waiting.push_back(&id);
  }
  put_u32(out, waiting.size());
  for (const std::string* id : waiting) put_str(out, *id);
}

EnvelopeStatus decode_node_sync(std::string_view in, NodeSync& sync) {
  if (in.empty()) return sync_error(EnvelopeStatus::Code::truncated, "empty");
  auto version = static_cast<uint8_t>(in[0]);
  if (version < 1 || version > kNodeSyncVersion)
    return sync_error(EnvelopeStatus::Code::bad_version, "version " + std::to_string(version));
  in.remove_prefix(1);
  size_t n = 0;
  if (!take_u32(in, n)) return sync_error(EnvelopeStatus::Code::truncated, "no row count");
  if (n == 0 || n > kMaxSyncRows)
    return sync_error(EnvelopeStatus::Code::bad_field, std::to_string(n) + " rows");
  for (size_t i = 0; i < n; ++i) {
    etcd::KeyValue kv;
    kv.create_revision = kv.mod_revision = kv.version = 1;  // the server's plan sets the real ones
    if (!wire::take_str(in, kv.key) || !wire::take_str(in, kv.value))
      return sync_error(EnvelopeStatus::Code::truncated, "truncated row");
    state::Mutation m;
    server::RowStatus rs = server::decode_row(kv, m);
    if (!rs.ok())
      return sync_error(EnvelopeStatus::Code::bad_field, "row " + kv.key + ": " + rs.error);
    if (EnvelopeStatus st = add_row(std::move(m), i == 0, sync); !st.ok()) return st;
  }
  if (version >= 2)
    if (EnvelopeStatus st = take_deferred_outputs(in, sync); !st.ok()) return st;
  if (!in.empty()) return sync_error(EnvelopeStatus::Code::bad_field, "bytes after the rows");
  return {};
}

bool encode_check_sync(const std::string& node, const local::LocalState& local,
                       const std::vector<std::string>& ids, std::string& out) {
  std::string rows;
  size_t n = 0;
  for (const std::string& id : ids) {
    const local::LocalCheck* lc = local.check(id);
    if (!lc) continue;  // removed since: the removal's full sync covers it
    put_str(rows, id);
    put_str(rows, lc->check.status);
    put_str(rows, lc->check.output);
    ++n;
  }
  if (n == 0) return false;
  out.push_back(static_cast<char>(kCheckSyncVersion));
  put_str(out, node);
  put_u32(out, n);
  out += rows;
  return true;
}

EnvelopeStatus decode_check_sync(std::string_view in, CheckSync& sync) {
  if (in.empty()) return check_sync_error(EnvelopeStatus::Code::truncated, "empty");
  auto version = static_cast<uint8_t>(in[0]);
  if (version != kCheckSyncVersion)
    return check_sync_error(EnvelopeStatus::Code::bad_version,
                            "version " + std::to_string(version));
  in.remove_prefix(1);
  if (!wire::take_str(in, sync.node))
    return check_sync_error(EnvelopeStatus::Code::truncated, "no node");
  if (sync.node.empty()) return check_sync_error(EnvelopeStatus::Code::bad_field, "empty node");
  size_t n = 0;
  if (!take_u32(in, n)) return check_sync_error(EnvelopeStatus::Code::truncated, "no count");
  // Each update takes at least 12 bytes: a count beyond that is a lie, refused before reserving.
  if (n == 0 || n > kMaxSyncRows || n > in.size() / 12)
    return check_sync_error(EnvelopeStatus::Code::bad_field, std::to_string(n) + " checks");
  sync.updates.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    local::CheckUpdate u;
    if (!wire::take_str(in, u.check_id) || !wire::take_str(in, u.status) ||
        !wire::take_str(in, u.output))
      return check_sync_error(EnvelopeStatus::Code::truncated, "truncated check");
    if (u.check_id.empty())
      return check_sync_error(EnvelopeStatus::Code::bad_field, "empty check ID");
    if (!state::is_valid_status(u.status))
      return check_sync_error(EnvelopeStatus::Code::bad_field,
                              "check " + u.check_id + ": status " + u.status);
    sync.updates.push_back(std::move(u));
  }
  if (!in.empty())
    return check_sync_error(EnvelopeStatus::Code::bad_field, "bytes after the checks");
  return {};
}

void serve_node_sync(rpc::Server& server, server::CatalogWriter& writer, Summary* timer) {
  server.handle(std::string(kSyncNodeMethod),
                [&writer, timer](rpc::Request&& call, rpc::Responder r) {
                  run_node_sync(writer, timer, std::move(call), std::move(r));
                });
  server.handle(std::string(kSyncChecksMethod),
                [&writer, timer](rpc::Request&& call, rpc::Responder r) {
                  run_check_sync(writer, timer, std::move(call), std::move(r));
                });
}

std::string encode_write_result(const server::WriteResult& r) {
  return std::string(server::write_code_name(r.code)) + "\n" + r.message;
}

server::WriteResult decode_write_result(std::string_view body) {
  server::WriteResult r;
  size_t nl = body.find('\n');
  std::string_view code = body.substr(0, nl);
  r.message = nl == std::string_view::npos ? "" : std::string(body.substr(nl + 1));
  if (!server::parse_write_code(code, r.code)) {
    r.code = server::WriteCode::unknown_outcome;
    r.message = "an answer this agent cannot read: " + std::string(code);
  }
  return r;
}

}  // namespace cairn::forward
