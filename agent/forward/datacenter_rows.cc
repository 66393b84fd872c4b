#include "agent/forward/datacenter_rows.h"

#include <set>

#include "agent/forward/catalog_stream.h"
#include "agent/forward/wire_bytes.h"
#include "agent/state/prepared_query.h"

namespace cairn::forward {

namespace {

constexpr uint8_t kRowsVersion = 1;
constexpr size_t kMaxRowsField = 255;

EnvelopeStatus rows_error(EnvelopeStatus::Code code, std::string message) {
  return {code, std::move(message)};
}

// A node's row once, then its node-level checks.
void add_node(const state::Store& store, const state::Node& n, std::set<std::string>& seen,
              state::Batch& out) {
  if (!seen.insert(n.name).second) return;
  out.push_back(state::PutNode{n});
  for (const state::Check* c : store.node_checks(n.name)) out.push_back(state::PutCheck{*c});
}

void add_service_rows(const state::Store& store, std::string_view service,
                      std::set<std::string>& nodes_seen, state::Batch& out) {
  for (const state::Service* s : store.service_instances(service)) {
    const state::Node* n = store.node(s->node);
    if (n == nullptr) continue;
    add_node(store, *n, nodes_seen, out);
    out.push_back(state::PutService{*s});
    for (const state::Check* c : store.instance_checks(s->node, s->id))
      out.push_back(state::PutCheck{*c});
  }
}

// Answers a question about this datacenter, or passes it on.
void answer_question(const state::Store& store, const std::string& local_datacenter,
                     const RouteToDatacenter& route, rpc::Request&& call, rpc::Responder responder) {
  dns::RemoteQuestion q;
  if (EnvelopeStatus st = decode_rows_question(call.body, q); !st.ok())
    return responder.fail({rpc::Status::Code::bad_request, "datacenter rows: " + st.message});
  if (q.datacenter == local_datacenter) {
    dns::RemoteRows rows{dns::RemoteRows::Result::found, rows_for(store, q)};
    std::string body;
    encode_rows_answer(rows, store.index(), body);
    return responder.reply(std::move(body));
  }
  Forwarder* way = route(q.datacenter);
  if (way == nullptr) {
    std::string body;
    encode_rows_answer({dns::RemoteRows::Result::no_path, {}}, 0, body);
    return responder.reply(std::move(body));
  }
  way->call(kDatacenterRowsMethod, std::string(call.body), DatacenterRows::kTimeoutMs, true,
            [responder](const rpc::Status& status, std::string body) mutable {
              if (status.ok())
                responder.reply(std::move(body));
              else
                responder.fail(status);
            });
}

}  // namespace

void encode_rows_question(const dns::RemoteQuestion& q, std::string& out) {
  out.push_back(static_cast<char>(kRowsVersion));
  out.push_back(static_cast<char>(q.kind));
  wire::put_str(out, q.datacenter);
  wire::put_str(out, q.name);
}

EnvelopeStatus decode_rows_question(std::string_view in, dns::RemoteQuestion& out) {
  uint64_t version = 0, kind = 0;
  if (!wire::take_be(in, 1, version) || !wire::take_be(in, 1, kind))
    return rows_error(EnvelopeStatus::Code::truncated, "truncated question");
  if (version != kRowsVersion)
    return rows_error(EnvelopeStatus::Code::bad_version,
                      "question version " + std::to_string(version) + " is not 1");
  if (kind < 1 || kind > 3) return rows_error(EnvelopeStatus::Code::bad_field, "unknown kind");
  out.kind = static_cast<dns::RemoteKind>(kind);
  if (!wire::take_str(in, out.datacenter) || !wire::take_str(in, out.name))
    return rows_error(EnvelopeStatus::Code::truncated, "truncated question");
  if (out.datacenter.empty() || out.datacenter.size() > kMaxRowsField ||
      out.name.size() > kMaxRowsField)
    return rows_error(EnvelopeStatus::Code::bad_field, "datacenter or name out of bounds");
  if (!in.empty()) return rows_error(EnvelopeStatus::Code::bad_field, "trailing bytes");
  return {};
}

void encode_rows_answer(const dns::RemoteRows& rows, uint64_t index, std::string& out) {
  out.push_back(static_cast<char>(kRowsVersion));
  out.push_back(rows.result == dns::RemoteRows::Result::found ? 0 : 1);
  if (rows.result != dns::RemoteRows::Result::found) return;
  // One message: the rows of one name fit the RPC's message bound or the call fails.
  for (std::string& m :
       encode_catalog_messages(CatalogMessageKind::snapshot_end, index, rows.rows, SIZE_MAX))
    out += m;
}

EnvelopeStatus decode_rows_answer(std::string_view in, dns::RemoteRows& out) {
  uint64_t version = 0, result = 0;
  if (!wire::take_be(in, 1, version) || !wire::take_be(in, 1, result))
    return rows_error(EnvelopeStatus::Code::truncated, "truncated answer");
  if (version != kRowsVersion)
    return rows_error(EnvelopeStatus::Code::bad_version,
                      "answer version " + std::to_string(version) + " is not 1");
  if (result == 1) {
    out.result = dns::RemoteRows::Result::no_path;
    return in.empty() ? EnvelopeStatus{} : rows_error(EnvelopeStatus::Code::bad_field, "trailing bytes");
  }
  if (result != 0) return rows_error(EnvelopeStatus::Code::bad_field, "unknown result");
  CatalogMessage msg;
  if (EnvelopeStatus st = decode_catalog_message(in, msg); !st.ok()) return st;
  out.result = dns::RemoteRows::Result::found;
  out.rows = std::move(msg.rows);
  return {};
}

state::Batch rows_for(const state::Store& store, const dns::RemoteQuestion& q) {
  state::Batch out;
  std::set<std::string> nodes_seen;
  switch (q.kind) {
    case dns::RemoteKind::service:
      add_service_rows(store, q.name, nodes_seen, out);
      break;
    case dns::RemoteKind::node:
      if (const state::Node* n = store.node(q.name)) {
        add_node(store, *n, nodes_seen, out);
        for (const state::Service* s : store.services_of_node(n->name)) {
          out.push_back(state::PutService{*s});
          for (const state::Check* c : store.instance_checks(s->node, s->id))
            out.push_back(state::PutCheck{*c});
        }
      }
      break;
    case dns::RemoteKind::query:
      // The stored query (the asker resolves the name again, templates
      // included) and the instances of the service it resolves to here.
      if (auto resolved = state::resolve_query(store, q.name)) {
        if (const state::PreparedQuery* stored = store.prepared_query(resolved->id))
          out.push_back(state::PutPreparedQuery{*stored});
        add_service_rows(store, resolved->service.service, nodes_seen, out);
      }
      break;
    case dns::RemoteKind::none:
      break;
  }
  return out;
}

void serve_datacenter_rows(rpc::Server& server, const state::Store& store,
                           std::string local_datacenter, RouteToDatacenter route) {
  server.handle(std::string(kDatacenterRowsMethod),
                [&store, local = std::move(local_datacenter), route = std::move(route)](
                    rpc::Request&& call, rpc::Responder responder) {
                  answer_question(store, local, route, std::move(call), std::move(responder));
                });
}

void DatacenterRows::fetch(const dns::RemoteQuestion& question,
                           std::function<void(dns::RemoteRows)> done) {
  if (question.datacenter == local_datacenter_)
    return done({dns::RemoteRows::Result::found, rows_for(store_, question)});
  Forwarder* way = route_(question.datacenter);
  if (way == nullptr) return done({dns::RemoteRows::Result::no_path, {}});
  std::string body;
  encode_rows_question(question, body);
  way->call(kDatacenterRowsMethod, std::move(body), kTimeoutMs, true,
            [done = std::move(done)](const rpc::Status& status, std::string answer) {
              dns::RemoteRows rows;
              if (!status.ok() || !decode_rows_answer(answer, rows).ok())
                rows.result = dns::RemoteRows::Result::failed;
              done(std::move(rows));
            });
}

}  // namespace cairn::forward
