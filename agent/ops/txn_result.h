// The answer to a transaction once the writer has planned (and, if it held,
// committed) it: Consul's {"Results": [...], "Errors": null} or
// {"Results": null, "Errors": [...]} object, the same for every transport.
#pragma once

#include <vector>

#include "agent/state/kv_ops.h"
#include "agent/state/store.h"
#include "common/json_writer.h"

namespace cairn::ops {

enum class TxnOutcome {
  committed,    // every operation held; the results are the keys read back
  rolled_back,  // an operation failed; nothing was written (HTTP: 409)
};

// Writes the answer object for plan. The results are read from store, which
// must already hold the committed batch: a get reports the key's value after
// the transaction's own writes, with their indexes.
TxnOutcome write_txn_result(JsonWriter& w, const state::Store& store, const state::TxnPlan& plan);

}  // namespace cairn::ops
