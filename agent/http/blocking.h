// Blocking queries: run a read now; if the client already has this index,
// park until a watched key changes or the wait (plus up to wait/16 of jitter)
// runs out, then answer with the current result. Parked queries cost a store
// watch and a timer each; a disconnecting client releases both.
//
// On a server over etcd, default-consistency reads without an index wait for
// a barrier first (they see every write committed before they arrived); a
// blocking query is answered from the server's cache, never queued behind
// etcd's writes, and only its "nothing changed" answer waits for a barrier.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/http/query_options.h"
#include "agent/http/router.h"

namespace cairn {
class Agent;
}

namespace cairn::http_api {

struct ReadResult {
  uint64_t index = 0;
  std::vector<std::string> watch;  // store keys whose change may change the result
  http::Response response;
};
using ReadFn = std::function<ReadResult()>;

// Serves a read with blocking-query semantics and Consul's read headers.
void serve_read(Agent& agent, const ExchangePtr& ex, const QueryOptions& opts, ReadFn read);

}  // namespace cairn::http_api
