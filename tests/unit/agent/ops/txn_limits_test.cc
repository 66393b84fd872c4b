#include "agent/ops/txn_limits.h"

#include <doctest/doctest.h>

#include <string>

#include "agent/ops/kv_write.h"

using namespace cairn;
using namespace cairn::ops;

TEST_CASE("a transaction holds at most 128 operations") {
  CHECK_FALSE(check_txn_op_count(0));
  CHECK_FALSE(check_txn_op_count(kTxnMaxOps));
  auto e = check_txn_op_count(kTxnMaxOps + 1);
  REQUIRE(e);
  CHECK(e->code == OpErrorCode::too_large);
  CHECK(e->http_status() == 413);
  CHECK(e->message == "Transaction contains too many operations (129 > 128)");
}

TEST_CASE("an operation within the limits passes") {
  state::KVOp op;
  op.key = "k";
  op.value.assign(kMaxKVValueBytes, 'v');
  op.session = "s";
  CHECK_FALSE(check_txn_kv_op(0, op));
}

TEST_CASE("a key or session over its limit names the operation") {
  state::KVOp key;
  key.key.assign(9000, 'k');
  auto e = check_txn_kv_op(3, key);
  REQUIRE(e);
  CHECK(e->code == OpErrorCode::limit);
  CHECK(e->limit == "kv_key_bytes");
  CHECK(e->http_status() == 400);
  CHECK(e->message == "Operation 3: Invalid key: 9000 bytes is too long, max size: 8192 bytes");

  state::KVOp session;
  session.key = "k";
  session.session.assign(1025, 's');
  e = check_txn_kv_op(0, session);
  REQUIRE(e);
  CHECK(e->limit == "identifier_bytes");
  CHECK(e->message == "Operation 0: Session: 1025 bytes is too long, max size: 1024 bytes");
}

TEST_CASE("a value over kv_max_value_size is 413") {
  state::KVOp op;
  op.key = "big";
  op.value.assign(kMaxKVValueBytes + 1, 'v');
  auto e = check_txn_kv_op(0, op);
  REQUIRE(e);
  CHECK(e->code == OpErrorCode::too_large);
  CHECK(e->http_status() == 413);
  CHECK(e->message == "Value for key \"big\" is too large (524289 > 524288 bytes)");
}
