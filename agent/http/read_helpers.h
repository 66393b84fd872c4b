// Selection rules shared by the catalog and health reads.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/http/near_order.h"
#include "agent/http/query_options.h"
#include "agent/http/result_filter.h"
#include "agent/http/router.h"
#include "agent/state/rows.h"

namespace cairn {
class Agent;
namespace state {
class Store;
}
}  // namespace cairn

namespace cairn::http_api {

// ?node-meta=k:v (repeatable): the node must carry every pair.
bool node_meta_matches(const state::Node& n, const QueryOptions& o);
// ?tag=t (repeatable): the instance must carry every tag, compared case-insensitively.
bool has_tags(const state::Service& s, const std::vector<std::string>& tags);
// Parses the query options and the filter; answers 400 itself on error. (?dc=
// is checked once for every route that takes it: see datacenter_scope.h.)
bool read_options(const ExchangePtr& ex, const Agent& agent, QueryOptions& o,
                  std::shared_ptr<ResultFilter>& filter);

// What a read of one service or one node depends on: its blocking index and watch key.
enum class ReadScope { service, node };
// Answers the read for the named entity; a JSON body, or a 404 of its own.
// near orders the results for ?near= (inactive without it).
using ScopedRead =
    std::function<http::Response(const state::Store&, const QueryOptions&, ResultFilter*,
                                 const std::string& name, const NearOrder& near)>;
// Parameters only some endpoints take (?passing): "" or the 400 body text.
using ExtraParams = std::function<std::string(const http::Request&, QueryOptions&)>;
// GET <prefix><name>: 400 "Missing service name" / "Missing node name" for an
// empty name, the query options, extra parameters and filter, then a
// blocking read scoped to it.
void add_scoped_read(Router& r, const std::string& prefix, Agent& agent, ReadScope scope,
                     ScopedRead read, ExtraParams extra = {});

}  // namespace cairn::http_api
