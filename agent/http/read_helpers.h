// Selection rules shared by the catalog and health reads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/http/query_options.h"
#include "agent/http/result_filter.h"
#include "agent/http/router.h"
#include "agent/state/rows.h"

namespace cairn {
class Agent;
}

namespace cairn::http_api {

// ?node-meta=k:v (repeatable): the node must carry every pair.
bool node_meta_matches(const state::Node& n, const QueryOptions& o);
// ?tag=t (repeatable): the instance must carry every tag, compared case-insensitively.
bool has_tags(const state::Service& s, const std::vector<std::string>& tags);
// Parses the query options and the filter, checks ?dc; answers 400/500 itself on error.
bool read_options(const ExchangePtr& ex, const Agent& agent, QueryOptions& o,
                  std::shared_ptr<ResultFilter>& filter);

}  // namespace cairn::http_api
