#include "agent/forward/query_failover.h"

#include <algorithm>
#include <memory>
#include <set>

#include "agent/forward/catalog_stream.h"
#include "agent/forward/wire_bytes.h"
#include "common/random.h"

namespace cairn::forward {

namespace {

constexpr uint8_t kRemoteQueryVersion = 1;
constexpr uint64_t kRemoteQueryTimeoutMs = 5000;

void execute_here(const state::Store& store, const std::string& local_datacenter,
                  rpc::Request&& call, rpc::Responder responder) {
  state::PreparedQuery q;
  uint32_t limit = 0;
  if (EnvelopeStatus st = decode_remote_query(call.body, q, limit); !st.ok())
    return responder.fail({rpc::Status::Code::bad_request, "remote query: " + st.message});
  dns::RemoteRows rows{dns::RemoteRows::Result::found, local_datacenter,
                       query_result_rows(store, q.service, limit)};
  std::string body;
  encode_rows_answer(rows, store.index(), body);
  responder.reply(std::move(body));
}

// One failover in progress: the datacenters left to try.
struct FailoverRun : std::enable_shared_from_this<FailoverRun> {
  RouteToDatacenter route;
  std::vector<std::string> datacenters;
  std::string request;
  std::function<void(FailoverResult)> done;
  FailoverResult result;
  size_t next = 0;

  void try_next() {
    while (next < datacenters.size()) {
      const std::string& dc = datacenters[next++];
      ++result.failovers;
      Forwarder* way = route(dc);
      if (way == nullptr) continue;  // gone from the WAN pool since the plan
      way->call(kExecuteRemoteMethod, request, kRemoteQueryTimeoutMs, true,
                [self = shared_from_this()](const rpc::Status& status, std::string body) {
                  self->answered(status, body);
                });
      return;
    }
    done(std::move(result));
  }

  void answered(const rpc::Status& status, std::string_view body) {
    dns::RemoteRows rows;
    // A datacenter that fails to answer is skipped, as Consul logs and goes on.
    if (status.ok() && decode_rows_answer(body, rows).ok() &&
        rows.result == dns::RemoteRows::Result::found) {
      result.rows.datacenter = rows.datacenter;
      if (!rows.rows.empty()) {
        result.rows = std::move(rows);
        return done(std::move(result));
      }
    }
    try_next();
  }
};

}  // namespace

void encode_remote_query(const state::PreparedQuery& q, uint32_t limit, std::string& out) {
  out.push_back(static_cast<char>(kRemoteQueryVersion));
  wire::put_be(out, limit, 4);
  state::Mutation row = state::PutPreparedQuery{q};
  for (std::string& m :
       encode_catalog_messages(CatalogMessageKind::snapshot_end, 0,
                               std::span<const state::Mutation>(&row, 1), SIZE_MAX))
    out += m;
}

EnvelopeStatus decode_remote_query(std::string_view in, state::PreparedQuery& q, uint32_t& limit) {
  uint64_t version = 0, n = 0;
  if (!wire::take_be(in, 1, version) || !wire::take_be(in, 4, n))
    return {EnvelopeStatus::Code::truncated, "truncated remote query"};
  if (version != kRemoteQueryVersion)
    return {EnvelopeStatus::Code::bad_version,
            "remote query version " + std::to_string(version) + " is not 1"};
  limit = static_cast<uint32_t>(n);
  CatalogMessage msg;
  if (EnvelopeStatus st = decode_catalog_message(in, msg); !st.ok()) return st;
  if (msg.rows.size() != 1 || !std::holds_alternative<state::PutPreparedQuery>(msg.rows[0]))
    return {EnvelopeStatus::Code::bad_field, "a remote query carries exactly one query row"};
  q = std::move(std::get<state::PutPreparedQuery>(msg.rows[0]).query);
  return {};
}

state::Batch query_result_rows(const state::Store& store, const state::ServiceQuery& q,
                               uint32_t limit) {
  std::vector<state::QueryResultNode> found = state::execute_query(store, q);
  for (size_t i = found.size(); i > 1; --i) std::swap(found[i - 1], found[random_below(i)]);
  if (limit > 0 && found.size() > limit) found.resize(limit);
  state::Batch out;
  std::set<std::string> nodes;
  for (const state::QueryResultNode& r : found) {
    if (nodes.insert(r.node->name).second) out.push_back(state::PutNode{*r.node});
    out.push_back(state::PutService{*r.service});
  }
  // Checks after every node and service, node-level ones once per node.
  std::set<std::pair<std::string, std::string>> checks;
  for (const state::QueryResultNode& r : found)
    for (const state::Check* c : r.checks)
      if (checks.insert({c->node, c->check_id}).second) out.push_back(state::PutCheck{*c});
  return out;
}

void serve_remote_queries(rpc::Server& server, const state::Store& store,
                          std::string local_datacenter) {
  server.handle(
      std::string(kExecuteRemoteMethod),
      [&store, local = std::move(local_datacenter)](rpc::Request&& call, rpc::Responder responder) {
        execute_here(store, local, std::move(call), std::move(responder));
      });
}

std::vector<std::string> plan_failover(const std::vector<std::string>& known, int nearest_n,
                                       const std::vector<std::string>& listed) {
  std::vector<std::string> out;
  for (const std::string& dc : known) {
    if (static_cast<int>(out.size()) >= nearest_n) break;
    out.push_back(dc);
  }
  for (const std::string& dc : listed)
    if (std::find(known.begin(), known.end(), dc) != known.end() &&
        std::find(out.begin(), out.end(), dc) == out.end())
      out.push_back(dc);
  return out;
}

void fail_over(RouteToDatacenter route, std::vector<std::string> datacenters,
               const state::PreparedQuery& q, uint32_t limit,
               std::function<void(FailoverResult)> done) {
  auto run = std::make_shared<FailoverRun>();
  run->route = std::move(route);
  run->datacenters = std::move(datacenters);
  encode_remote_query(q, limit, run->request);
  run->done = std::move(done);
  run->try_next();
}

}  // namespace cairn::forward
