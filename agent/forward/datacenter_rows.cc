#include "agent/forward/datacenter_rows.h"

#include <set>

#include "agent/forward/catalog_stream.h"
#include "agent/forward/query_failover.h"
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

// Asks a server (of that datacenter, or the client's own) for a question's rows.
void ask_datacenter(Forwarder& way, const dns::RemoteQuestion& q, uint64_t timeout_ms,
                    std::function<void(dns::RemoteRows)> done) {
  std::string body;
  encode_rows_question(q, body);
  way.call(kDatacenterRowsMethod, std::move(body), timeout_ms, true,
           [done = std::move(done)](const rpc::Status& status, std::string answer) {
             dns::RemoteRows rows;
             if (!status.ok() || !decode_rows_answer(answer, rows).ok())
               rows.result = dns::RemoteRows::Result::failed;
             done(std::move(rows));
           });
}

void add_query_row(const state::Store& store, std::string_view id, state::Batch& out) {
  if (const state::PreparedQuery* stored = store.prepared_query(id))
    out.insert(out.begin(), state::PutPreparedQuery{*stored});
}

// A server: the rows that answer question, here or from the datacenter
// that has them; done runs once.
void answer_rows(const state::Store& store, const DatacenterWays& ways,
                 const dns::RemoteQuestion& q, uint64_t timeout_ms,
                 std::function<void(dns::RemoteRows)> done);

void relay_answer(rpc::Responder responder, const rpc::Status& status, std::string body) {
  if (status.ok())
    responder.reply(std::move(body));
  else
    responder.fail(status);
}

// The failover question: this datacenter's instances of the query, or the
// first other datacenter's that has some.
void answer_failover(const state::Store& store, const DatacenterWays& ways,
                     const dns::RemoteQuestion& q, std::function<void(dns::RemoteRows)> done) {
  dns::RemoteRows rows{dns::RemoteRows::Result::found, ways.local_datacenter, {}};
  std::optional<state::PreparedQuery> query = state::resolve_query(store, q.name);
  if (!query) return done(std::move(rows));
  rows.rows = query_result_rows(store, query->service, 0);
  if (!rows.rows.empty() || !ways.plan_failover) {
    add_query_row(store, query->id, rows.rows);
    return done(std::move(rows));
  }
  std::string id = query->id;
  fail_over(ways.route, ways.plan_failover(query->service.failover), *query, 0,
            [&store, id, done = std::move(done)](FailoverResult result) {
              add_query_row(store, id, result.rows.rows);
              result.rows.result = dns::RemoteRows::Result::found;
              done(std::move(result.rows));
            });
}

void answer_rows(const state::Store& store, const DatacenterWays& ways,
                 const dns::RemoteQuestion& q, uint64_t timeout_ms,
                 std::function<void(dns::RemoteRows)> done) {
  if (q.kind == dns::RemoteKind::failover) return answer_failover(store, ways, q, std::move(done));
  if (q.datacenter == ways.local_datacenter)
    return done({dns::RemoteRows::Result::found, ways.local_datacenter, rows_for(store, q)});
  Forwarder* way = ways.route(q.datacenter);
  if (way == nullptr) return done({dns::RemoteRows::Result::no_path, {}, {}});
  ask_datacenter(*way, q, timeout_ms, std::move(done));
}

// The RPC: answers a question about this datacenter, runs a failover, or
// passes the question on.
void answer_question(const state::Store& store, const DatacenterWays& ways, rpc::Request&& call,
                     rpc::Responder responder) {
  dns::RemoteQuestion q;
  if (EnvelopeStatus st = decode_rows_question(call.body, q); !st.ok())
    return responder.fail({rpc::Status::Code::bad_request, "datacenter rows: " + st.message});
  if (q.kind != dns::RemoteKind::failover && q.datacenter != ways.local_datacenter) {
    // Passed on as it came, so the answer is relayed unread.
    Forwarder* way = ways.route(q.datacenter);
    if (way != nullptr)
      return way->call(kDatacenterRowsMethod, std::string(call.body), DatacenterRows::kTimeoutMs,
                       true, [responder](const rpc::Status& status, std::string body) {
                         relay_answer(responder, status, std::move(body));
                       });
  }
  uint64_t index = store.index();
  answer_rows(store, ways, q, DatacenterRows::kTimeoutMs,
              [responder, index](dns::RemoteRows rows) mutable {
                std::string body;
                encode_rows_answer(rows, index, body);
                responder.reply(std::move(body));
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
  if (kind < 1 || kind > 4) return rows_error(EnvelopeStatus::Code::bad_field, "unknown kind");
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
  wire::put_str(out, rows.datacenter);
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
    return in.empty() ? EnvelopeStatus{}
                      : rows_error(EnvelopeStatus::Code::bad_field, "trailing bytes");
  }
  if (result != 0) return rows_error(EnvelopeStatus::Code::bad_field, "unknown result");
  if (!wire::take_str(in, out.datacenter) || out.datacenter.size() > kMaxRowsField)
    return rows_error(EnvelopeStatus::Code::bad_field, "bad datacenter");
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
    case dns::RemoteKind::failover:  // runs on a server: answer_failover
    case dns::RemoteKind::none:
      break;
  }
  return out;
}

void serve_datacenter_rows(rpc::Server& server, const state::Store& store, DatacenterWays ways) {
  server.handle(std::string(kDatacenterRowsMethod),
                [&store, ways = std::move(ways)](rpc::Request&& call, rpc::Responder responder) {
                  answer_question(store, ways, std::move(call), std::move(responder));
                });
}

void DatacenterRows::fetch(const dns::RemoteQuestion& question,
                           std::function<void(dns::RemoteRows)> done) {
  uint64_t timeout = question.kind == dns::RemoteKind::failover ? kFailoverTimeoutMs : kTimeoutMs;
  if (ways_.plan_failover) return answer_rows(store_, ways_, question, timeout, std::move(done));
  // A client agent: its server knows the other datacenters and runs failovers.
  Forwarder* way = ways_.route(question.datacenter);
  if (way == nullptr) return done({dns::RemoteRows::Result::no_path, {}, {}});
  ask_datacenter(*way, question, timeout, std::move(done));
}

}  // namespace cairn::forward
