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

// One decoded row into the sync's node, services or checks.
EnvelopeStatus add_row(state::Mutation&& m, bool first, local::NodeIdentity& node,
                       local::LocalState& local) {
  if (first) {
    auto* put = std::get_if<state::PutNode>(&m);
    if (!put) return sync_error(EnvelopeStatus::Code::bad_field, "the first row must be the node");
    node = local::identity_of(put->node);
    local = local::LocalState(node.name);
    return {};
  }
  if (auto* s = std::get_if<state::PutService>(&m)) {
    if (s->service.node != node.name)
      return sync_error(EnvelopeStatus::Code::bad_field, "a service of another node");
    local::LocalService ls;
    ls.service = std::move(s->service);
    local.put_service(std::move(ls));
    return {};
  }
  if (auto* c = std::get_if<state::PutCheck>(&m)) {
    if (c->check.node != node.name)
      return sync_error(EnvelopeStatus::Code::bad_field, "a check of another node");
    local::LocalCheck lc;
    lc.check = std::move(c->check);
    local.put_check(std::move(lc));
    return {};
  }
  return sync_error(EnvelopeStatus::Code::bad_field,
                    "only service and check rows may follow the node");
}

void answer_sync(rpc::Responder responder, const server::WriteResult& r) {
  responder.reply(encode_write_result(r));
}

void run_node_sync(server::CatalogWriter& writer, Summary* timer, rpc::Request&& call,
                   rpc::Responder responder) {
  uint64_t started_ns = uv_hrtime();
  auto node = std::make_shared<local::NodeIdentity>();
  auto local = std::make_shared<local::LocalState>("");
  EnvelopeStatus st = decode_node_sync(call.body, *node, *local);
  if (!st.ok()) {
    responder.fail({rpc::Status::Code::bad_request, st.message});
    return;
  }
  writer.write(
      [node, local](const state::Store& store, int64_t, state::Batch& out) {
        return server::PlanStatus(local::plan_sync(store, *node, *local, out));
      },
      [responder, timer, started_ns](const server::WriteResult& r) {
        if (timer) timer->observe(static_cast<double>(uv_hrtime() - started_ns) / 1e6);
        answer_sync(responder, r);
      });
}

}  // namespace

void encode_node_sync(const local::NodeIdentity& ident, const local::LocalState& local,
                      std::string& out) {
  state::Node node = local::node_row(ident);
  out.push_back(static_cast<char>(kEnvelopeVersion));
  put_u32(out, 1 + local.services().size() + local.checks().size());
  put_str(out, server::node_row_key(node.name));
  put_str(out, server::encode_row(node));
  for (const auto& [id, ls] : local.services()) {
    state::Service svc = ls.service;
    svc.node = ident.name;
    put_str(out, server::service_row_key(ident.name, id));
    put_str(out, server::encode_row(svc));
  }
  for (const auto& [id, lc] : local.checks()) {
    state::Check c = lc.check;
    c.node = ident.name;
    put_str(out, server::check_row_key(ident.name, id));
    put_str(out, server::encode_row(c));
  }
}

EnvelopeStatus decode_node_sync(std::string_view in, local::NodeIdentity& node,
                                local::LocalState& local) {
  if (in.empty()) return sync_error(EnvelopeStatus::Code::truncated, "empty");
  if (static_cast<uint8_t>(in[0]) != kEnvelopeVersion)
    return sync_error(EnvelopeStatus::Code::bad_version,
                      "version " + std::to_string(uint8_t(in[0])));
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
    if (EnvelopeStatus st = add_row(std::move(m), i == 0, node, local); !st.ok()) return st;
  }
  if (!in.empty()) return sync_error(EnvelopeStatus::Code::bad_field, "bytes after the rows");
  return {};
}

void serve_node_sync(rpc::Server& server, server::CatalogWriter& writer, Summary* timer) {
  server.handle(std::string(kSyncNodeMethod),
                [&writer, timer](rpc::Request&& call, rpc::Responder r) {
                  run_node_sync(writer, timer, std::move(call), std::move(r));
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
