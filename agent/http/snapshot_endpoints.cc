// /v1/snapshot: GET saves every replicated table at one index as a cairn
// snapshot (agent/snapshot/snapshot_file.h, docs/snapshot.md); PUT restores
// one, all or nothing, through the catalog writer (-dev: the store swaps its
// tables; servers: one etcd transaction, server/etcd_restore.h).
//
// Both run on the loop: SHA-256 (about 1.4 GB/s here) and copies of the
// rows, so the size cap (kDefaultMaxBytes) and, for restores,
// http_config.max_body_bytes bound how long the loop stalls (docs/snapshot.md).
#include <ctime>

#include "agent/agent.h"
#include "agent/http/endpoints.h"
#include "agent/http/query_options.h"
#include "agent/http/reply.h"
#include "agent/snapshot/snapshot_rows.h"
#include "cairn_version.h"

namespace cairn::http_api {

namespace {

uint64_t wall_clock_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1'000'000;
}

void answer_snapshot(Agent& agent, const ExchangePtr& ex, bool stale) {
  snapshot::Meta meta;
  // etcd's raft term is not visible through the watch cache; a snapshot
  // says term 1, as -dev's single term would.
  meta.term = 1;
  meta.created_unix_ms = wall_clock_ms();
  meta.datacenter = agent.config().datacenter;
  meta.cairn_version = CAIRN_VERSION;
  // One pass over the store within one loop turn: the rows are exactly those
  // at store.index() (on servers, one etcd revision: the cache applies whole
  // revisions only).
  snapshot::Snapshot s = snapshot::snapshot_of(agent.store(), std::move(meta));
  http::Response r;
  r.body = snapshot::encode(s);
  if (r.body.size() > snapshot::kDefaultMaxBytes) {
    respond_error(ex, 500,
                  "snapshot is " + std::to_string(r.body.size()) + " bytes, over the limit of " +
                      std::to_string(snapshot::kDefaultMaxBytes));
    return;
  }
  r.set_header("Content-Type", "application/octet-stream");
  r.set_header("X-Consul-Index", std::to_string(s.meta.index == 0 ? 1 : s.meta.index));
  const server::ReplicatedState* rs = agent.replicated();
  r.set_header("X-Consul-Knownleader", rs && rs->leader_value().empty() ? "false" : "true");
  r.set_header("X-Consul-Lastcontact", std::to_string(rs && stale ? rs->last_contact_age_ms() : 0));
  respond(ex, std::move(r));
}

void snapshot_save(Agent& agent, const ExchangePtr& ex, const std::string&) {
  QueryOptions opts;
  if (std::string err = parse_query_options(ex->request, opts); !err.empty()) {
    respond_error(ex, 400, err);
    return;
  }
  server::ReplicatedState* rs = agent.replicated();
  if (rs == nullptr || opts.stale) {
    answer_snapshot(agent, ex, opts.stale);
    return;
  }
  // Default consistency: the snapshot holds every write committed before the
  // request arrived, whichever server answers.
  rs->barrier([&agent, ex](bool ok) {
    if (!ok) {
      respond_error(ex, 500, "No cluster leader");
      return;
    }
    answer_snapshot(agent, ex, false);
  });
}

// -dev keeps session TTLs on the agent's timers (servers on etcd leases):
// the restored sessions get fresh ones, the replaced sessions lose theirs.
void rearm_session_timers(Agent& agent) {
  agent.session_timers().clear();
  for (const auto& [id, s] : agent.store().sessions())
    if (s.ttl > 0) agent.session_timers().arm(id, s.ttl);
}

void snapshot_restore(Agent& agent, const ExchangePtr& ex, const std::string&) {
  snapshot::Snapshot s;
  snapshot::Status st = snapshot::decode(ex->request.body, {}, s);
  state::Batch rows;
  if (st.ok()) st = snapshot::rows_of(s, rows);
  if (!st.ok()) {
    respond_error(ex, 400, "Invalid snapshot: " + st.message);
    return;
  }
  s = {};  // the rows are all that is needed now
  ex->request.body.clear();
  ex->request.body.shrink_to_fit();
  agent.writer().restore(std::move(rows), [&agent, ex](const server::WriteResult& r) {
    if (!r.ok()) {
      int status = r.code == server::WriteCode::invalid ? 400 : write_status(r.code);
      respond_error(ex, status, "Snapshot restore failed: " + r.message);
      return;
    }
    if (agent.replicated() == nullptr) rearm_session_timers(agent);
    respond_empty(ex);
  });
}

}  // namespace

void add_snapshot_routes(Router& r, Agent& agent) {
  r.add("GET", "/v1/snapshot", bind_endpoint(agent, snapshot_save));
  r.add("PUT", "/v1/snapshot", bind_endpoint(agent, snapshot_restore));
}

}  // namespace cairn::http_api
