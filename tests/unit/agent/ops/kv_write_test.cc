#include "agent/ops/kv_write.h"

#include <doctest/doctest.h>

#include <string>

using namespace cairn;
using namespace cairn::ops;

namespace {

state::KVOp accepted(KVOpOrError r) {
  auto* op = std::get_if<state::KVOp>(&r);
  REQUIRE(op);
  return *op;
}

OpError refused(KVOpOrError r) {
  auto* e = std::get_if<OpError>(&r);
  REQUIRE(e);
  return *e;
}

}  // namespace

TEST_CASE("a plain put sets the key to the body") {
  state::KVOp op = accepted(kv_put_op("a/b", {}, "value"));
  CHECK(op.verb == state::KVVerb::set);
  CHECK(op.key == "a/b");
  CHECK(op.value == "value");
  CHECK(op.flags == 0);
  CHECK(op.session.empty());
}

TEST_CASE("put options choose the verb and carry their arguments") {
  KVPutParams p;
  p.flags = "42";
  p.cas = "7";
  state::KVOp op = accepted(kv_put_op("k", p, "v"));
  CHECK(op.verb == state::KVVerb::cas);
  CHECK(op.index == 7);
  CHECK(op.flags == 42);

  KVPutParams acquire;
  acquire.acquire = "sess";
  op = accepted(kv_put_op("k", acquire, ""));
  CHECK(op.verb == state::KVVerb::lock);
  CHECK(op.session == "sess");

  KVPutParams release;
  release.release = "sess";
  op = accepted(kv_put_op("k", release, ""));
  CHECK(op.verb == state::KVVerb::unlock);
  CHECK(op.session == "sess");

  KVPutParams max_flags;
  max_flags.flags = "18446744073709551609";
  CHECK(accepted(kv_put_op("k", max_flags, "")).flags == 18446744073709551609u);
}

TEST_CASE("a put needs a key") {
  OpError e = refused(kv_put_op("", {}, "v"));
  CHECK(e.code == OpErrorCode::invalid);
  CHECK(e.message == "Missing key name");
}

TEST_CASE("a put's key is bounded, then checked for syntax") {
  OpError e = refused(kv_put_op(std::string(9000, 'k'), {}, "v"));
  CHECK(e.code == OpErrorCode::limit);
  CHECK(e.limit == "kv_key_bytes");
  CHECK(e.http_status() == 400);
  CHECK(e.message == "Invalid key: 9000 bytes is too long, max size: 8192 bytes");

  e = refused(kv_put_op("a/../b", {}, "v"));
  CHECK(e.code == OpErrorCode::invalid);
  CHECK(e.message == "Invalid key: path traversal is not allowed");
}

TEST_CASE("cas, acquire and release exclude each other; the message repeats the query") {
  KVPutParams p;
  p.cas = "1";
  p.acquire = "s";
  p.query = "cas=1&acquire=s";
  OpError e = refused(kv_put_op("k", p, "v"));
  CHECK(e.code == OpErrorCode::invalid);
  CHECK(e.message == "Conflicting flags: cas=1&acquire=s");

  KVPutParams q;
  q.acquire = "s";
  q.release = "s";
  q.query = "acquire=s&release=s";
  CHECK(refused(kv_put_op("k", q, "v")).message == "Conflicting flags: acquire=s&release=s");
}

TEST_CASE("a value over kv_max_value_size is 413 with Consul's text") {
  CHECK(accepted(kv_put_op("k", {}, std::string(kMaxKVValueBytes, 'v'))).value.size() ==
        kMaxKVValueBytes);
  OpError e = refused(kv_put_op("k", {}, std::string(kMaxKVValueBytes + 1, 'v')));
  CHECK(e.code == OpErrorCode::too_large);
  CHECK(e.http_status() == 413);
  CHECK(e.message ==
        "Request body(524289 bytes) too large, max size: 524288 bytes. See "
        "https://developer.hashicorp.com/docs/agent/config/config-files#kv_max_value_size.");
}

TEST_CASE("flags and cas must be decimal uint64s") {
  for (const char* bad : {"", "-1", "1x", " 1", "18446744073709551616"}) {
    KVPutParams p;
    p.flags = bad;
    CHECK(refused(kv_put_op("k", p, "v")).message == "Invalid flags: \"" + std::string(bad) + "\"");
  }
  KVPutParams p;
  p.cas = "abc";
  CHECK(refused(kv_put_op("k", p, "v")).message == "Invalid cas index: \"abc\"");
}

TEST_CASE("the lock session is bounded like an identifier") {
  KVPutParams p;
  p.acquire = std::string(1025, 's');
  OpError e = refused(kv_put_op("k", p, ""));
  CHECK(e.code == OpErrorCode::limit);
  CHECK(e.limit == "identifier_bytes");
  CHECK(e.message == "Session: 1025 bytes is too long, max size: 1024 bytes");
}

TEST_CASE("a delete removes one key, a tree, or a key at an index") {
  state::KVOp op = accepted(kv_delete_op("k", {}));
  CHECK(op.verb == state::KVVerb::del);
  CHECK(op.key == "k");

  KVDeleteParams tree;
  tree.recurse = true;
  op = accepted(kv_delete_op("dir/", tree));
  CHECK(op.verb == state::KVVerb::delete_tree);

  // The whole store goes only as a tree.
  op = accepted(kv_delete_op("", tree));
  CHECK(op.verb == state::KVVerb::delete_tree);
  CHECK(op.key.empty());

  KVDeleteParams cas;
  cas.cas = "9";
  op = accepted(kv_delete_op("k", cas));
  CHECK(op.verb == state::KVVerb::delete_cas);
  CHECK(op.index == 9);
}

TEST_CASE("a delete's refusals") {
  OpError e = refused(kv_delete_op(std::string(9000, 'k'), {}));
  CHECK(e.code == OpErrorCode::limit);
  CHECK(e.limit == "kv_key_bytes");

  CHECK(refused(kv_delete_op("/k", {})).message == "Invalid key: must not begin with '/'");

  KVDeleteParams both;
  both.recurse = true;
  both.cas = "1";
  both.query = "recurse&cas=1";
  CHECK(refused(kv_delete_op("k", both)).message == "Conflicting flags: recurse&cas=1");

  e = refused(kv_delete_op("", {}));
  CHECK(e.code == OpErrorCode::invalid);
  CHECK(e.message == "Missing key name");

  KVDeleteParams cas;
  cas.cas = "x";
  CHECK(refused(kv_delete_op("k", cas)).message == "Invalid cas index: \"x\"");
}
