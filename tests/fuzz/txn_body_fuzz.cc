// /v1/txn bodies through the parser and, when they parse, the planner
// against a small store: bad input must end in a clear error, never a crash.
#include <cstdint>
#include <string>

#include "agent/http/txn_body.h"
#include "agent/state/txn_ops.h"

using namespace cairn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static state::Store store = [] {
    state::Store s;
    state::KVEntry e;
    e.key = "a";
    e.value = "1";
    state::Node n;
    n.name = "web-1";
    n.address = "10.0.0.1";
    state::Service svc;
    svc.node = "web-1";
    svc.id = svc.name = "web";
    state::Check c;
    c.node = "web-1";
    c.check_id = "web-check";
    c.service_id = "web";
    c.status = state::kPassing;
    s.apply(std::vector<state::Mutation>{state::PutKV{e}, state::PutNode{n}, state::PutService{svc},
                                         state::PutCheck{c}},
            1);
    return s;
  }();
  http_api::TxnBody body;
  ops::OpError err;
  std::string text(reinterpret_cast<const char*>(data), size);
  if (!http_api::parse_txn_body(text, body, err)) {
    if (err.message.empty() || (err.http_status() != 400 && err.http_status() != 413))
      __builtin_trap();
    return 0;
  }
  state::TxnPlan plan = state::plan_txn(store, body.ops, 0);
  if (!plan.ok() && !plan.batch.empty()) __builtin_trap();  // all or nothing
  return 0;
}
