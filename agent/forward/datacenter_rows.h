// The rows DNS needs for a name in another datacenter (Catalog.DatacenterRows):
// a service's instances with their nodes and checks, a node with its
// services and checks, or a prepared query with its service's rows. Asked by
// a client agent of its server, or by a server of a server of the named
// datacenter; a server that is not in that datacenter passes the question
// on over the WAN pool, so a client reaches any datacenter its servers know.
//
// Question: u8 version(1) | u8 kind | str datacenter | str name
// Answer:   u8 version(1) | u8 result (0 found, 1 no path) | str datacenter
//           (whose rows) | catalog message (catalog_stream.h, kind
//           snapshot_end) when found
//
// A failover question (a prepared query with no healthy instance here) is
// answered by a server of the asker's datacenter, which runs the failover
// (query_failover.h) and answers the rows of the datacenter that had some.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "agent/dns/remote_records.h"
#include "agent/forward/forwarder.h"
#include "agent/forward/http_envelope.h"
#include "agent/rpc/server.h"
#include "agent/state/store.h"

namespace cairn::forward {

inline constexpr std::string_view kDatacenterRowsMethod = "Catalog.DatacenterRows";

void encode_rows_question(const dns::RemoteQuestion& q, std::string& out);
// Bounded: a datacenter and a name are at most 255 bytes each.
EnvelopeStatus decode_rows_question(std::string_view in, dns::RemoteQuestion& out);

void encode_rows_answer(const dns::RemoteRows& rows, uint64_t index, std::string& out);
EnvelopeStatus decode_rows_answer(std::string_view in, dns::RemoteRows& out);

// The rows a question needs from store (this datacenter's catalog).
state::Batch rows_for(const state::Store& store, const dns::RemoteQuestion& q);

// How an agent reaches other datacenters.
struct DatacenterWays {
  std::string local_datacenter;
  // Where a question for another datacenter goes from here (null: no path).
  std::function<Forwarder*(std::string_view datacenter)> route;
  // Servers: the datacenters a prepared query's failover tries, in order.
  // Null on client agents, whose server runs failovers.
  std::function<std::vector<std::string>(const state::QueryFailover&)> plan_failover;
};
using RouteToDatacenter = std::function<Forwarder*(std::string_view datacenter)>;

// Servers: answers kDatacenterRowsMethod from store for their datacenter,
// runs failovers, and passes questions for other datacenters on.
void serve_datacenter_rows(rpc::Server& server, const state::Store& store, DatacenterWays ways);

// DNS's fetcher of other datacenters' rows: a server answers as it answers
// the RPC; a client asks its server.
class DatacenterRows : public dns::RemoteRecords {
 public:
  DatacenterRows(const state::Store& store, DatacenterWays ways)
      : store_(store), ways_(std::move(ways)) {}
  void fetch(const dns::RemoteQuestion& question,
             std::function<void(dns::RemoteRows)> done) override;

  // How long a DNS question waits for another datacenter (a failover may
  // try several).
  static constexpr uint64_t kTimeoutMs = 2000;
  static constexpr uint64_t kFailoverTimeoutMs = 10'000;

 private:
  const state::Store& store_;
  DatacenterWays ways_;
};

}  // namespace cairn::forward
