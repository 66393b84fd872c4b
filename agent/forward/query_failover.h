// Prepared-query failover across datacenters, as Consul's queryFailover:
// when a query finds no healthy instance here, its definition is run in the
// NearestN nearest other datacenters (by WAN round trip), then in the ones
// its Failover.Datacenters lists that are known and not yet tried, in order,
// until one has instances. Each try is one PreparedQuery.ExecuteRemote call
// to a server of that datacenter, which runs the definition it is sent (the
// query is stored only here) and answers the matching instances as rows
// (their nodes, services and checks); the asker answers from those rows as
// from its own, over HTTP and DNS alike.
//
// Request: u8 version(1) | u32 limit | catalog message holding the query row
// Answer:  the rows answer of datacenter_rows.h
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/dns/remote_records.h"
#include "agent/forward/datacenter_rows.h"
#include "agent/forward/http_envelope.h"
#include "agent/rpc/server.h"
#include "agent/state/prepared_query.h"
#include "agent/state/store.h"

namespace cairn::forward {

inline constexpr std::string_view kExecuteRemoteMethod = "PreparedQuery.ExecuteRemote";

void encode_remote_query(const state::PreparedQuery& q, uint32_t limit, std::string& out);
EnvelopeStatus decode_remote_query(std::string_view in, state::PreparedQuery& q, uint32_t& limit);

// The rows of the instances q selects in store, at most limit of them
// (0: all), picked at random as Consul's remote execution shuffles.
state::Batch query_result_rows(const state::Store& store, const state::ServiceQuery& q,
                               uint32_t limit);

// Servers: answers kExecuteRemoteMethod from store.
void serve_remote_queries(rpc::Server& server, const state::Store& store,
                          std::string local_datacenter);

// The datacenters to try, in order: the nearest_n first of known (the other
// datacenters, nearest first), then the listed ones that are known and not
// picked yet; unknown ones are skipped, as Consul skips them.
std::vector<std::string> plan_failover(const std::vector<std::string>& known, int nearest_n,
                                       const std::vector<std::string>& listed);

struct FailoverResult {
  dns::RemoteRows rows;  // found: the first datacenter with instances, and their rows
  int failovers = 0;     // datacenters tried, Consul's Failovers
};

// Tries datacenters in order; done runs once, on the loop.
void fail_over(RouteToDatacenter route, std::vector<std::string> datacenters,
               const state::PreparedQuery& q, uint32_t limit,
               std::function<void(FailoverResult)> done);

}  // namespace cairn::forward
