#include "agent/gossip/messages.h"

#include <doctest/doctest.h>

#include "agent/gossip/compound.h"
#include "tests/unit/agent/gossip/test_util.h"

using namespace cairn::gossip;
using cairn::gossip::test::hex;
using cairn::gossip::test::unhex;

namespace {
const std::string ip1 = unhex("7f000001"), ip2 = unhex("7f000002"), ip3 = unhex("7f000003");
const std::string vsn = unhex("010502000000");
}  // namespace

TEST_CASE("ping encodes byte for byte like Go") {
  std::string out;
  encode(PingMsg{1, "node-b", ip1, 7946, "node-a"}, out);
  CHECK(hex(out) ==
        "0085a44e6f6465a66e6f64652d62a55365714e6f01aa536f7572636541646472a47f000001aa536f757263654e"
        "6f6465a66e6f64652d61aa536f75726365506f7274cd1f0a");
  out.clear();
  encode(PingMsg{1, "node-b", {}, 0, {}}, out);
  CHECK(hex(out) == "0082a44e6f6465a66e6f64652d62a55365714e6f01");
}

TEST_CASE("indirect ping, ack, nack, suspect, alive, dead, err vectors") {
  std::string out;
  encode(IndirectPingMsg{2, ip3, 7946, "node-c", true, ip1, 7946, "node-a"}, out);
  CHECK(hex(out) ==
        "0188a44e61636bc3a44e6f6465a66e6f64652d63a4506f7274cd1f0aa55365714e6f02aa536f75726365416464"
        "72a47f000001aa536f757263654e6f6465a66e6f64652d61aa536f75726365506f7274cd1f0aa6546172676574"
        "a47f000003");
  out.clear();
  encode(AckMsg{1, {}}, out);
  CHECK(hex(out) == "0282a75061796c6f6164c0a55365714e6f01");
  out.clear();
  encode(SuspectMsg{3, "node-c", "node-a"}, out);
  CHECK(hex(out) ==
        "0383a446726f6da66e6f64652d61ab496e6361726e6174696f6e03a44e6f6465a66e6f64652d63");
  out.clear();
  encode(AliveMsg{1, "node-a", ip1, 7946, {}, vsn}, out);
  CHECK(hex(out) ==
        "0486a441646472a47f000001ab496e6361726e6174696f6e01a44d657461c0a44e6f6465a66e6f64652d61a450"
        "6f7274cd1f0aa356736ea6010502000000");
  out.clear();
  encode(DeadMsg{4, "node-a", "node-a"}, out);
  CHECK(hex(out) ==
        "0583a446726f6da66e6f64652d61ab496e6361726e6174696f6e04a44e6f6465a66e6f64652d61");
  out.clear();
  encode(NackMsg{2}, out);
  CHECK(hex(out) == "0b81a55365714e6f02");
  out.clear();
  encode(ErrRespMsg{"boom"}, out);
  CHECK(hex(out) == "0d81a54572726f72a4626f6f6d");
}

TEST_CASE("push/pull header and node state") {
  std::string out;
  encode(PushPullHeader{2, 0, true}, out);
  CHECK(hex(out) == "0683a44a6f696ec3a54e6f64657302ac5573657253746174654c656e00");
  out.clear();
  encode(PushPullHeader{200, 300, false}, out);
  CHECK(hex(out) == "0683a44a6f696ec2a54e6f646573ccc8ac5573657253746174654c656ecd012c");
  out.clear();
  encode(PushNodeState{"node-b", ip2, 7946, {}, 1, 0, vsn}, out);
  CHECK(hex(out) ==
        "87a441646472a47f000002ab496e6361726e6174696f6e01a44d657461c0a44e616d65a66e6f64652d62a4506f"
        "7274cd1f0aa5537461746500a356736ea6010502000000");
  out.clear();
  out.push_back(8);
  encode(UserMsgHeader{5}, out);
  CHECK(hex(out) == "0881aa557365724d73674c656e05");
}

TEST_CASE("decoders accept both the unsigned (v0.5.5) and signed (v2) integer forms") {
  MsgpackReader r;
  for (auto v : {"0683a44a6f696ec2a54e6f646573ccc8ac5573657253746174654c656ecd012c",
                 "0683a44a6f696ec2a54e6f646573d100c8ac5573657253746174654c656ed1012c"}) {
    const std::string b = unhex(v);
    PushPullHeader h;
    REQUIRE(decode(as_bytes(b).subspan(1), r, h));
    CHECK(h.nodes == 200);
    CHECK(h.user_state_len == 300);
    CHECK_FALSE(h.join);
  }
  // A uint32 field written as int16 (d1) decodes too; a negative one does not.
  const std::string ack = unhex("0282a75061796c6f6164c0a55365714e6fd1012c");
  AckMsg a;
  REQUIRE(decode(as_bytes(ack).subspan(1), r, a));
  CHECK(a.seq_no == 300);
  CHECK(a.payload.empty());
  const std::string neg = unhex("0281a55365714e6fff");
  CHECK_FALSE(decode(as_bytes(neg).subspan(1), r, a));
}

TEST_CASE("decode round trip and lenient string forms") {
  MsgpackReader r;
  const std::string b = unhex(
      "0085a44e6f6465a66e6f64652d62a55365714e6f01aa536f7572636541646472a47f000001aa536f757263654e6f"
      "6465a66e6f64652d61aa536f75726365506f7274cd1f0a");
  PingMsg p;
  REQUIRE(decode(as_bytes(b).subspan(1), r, p));
  CHECK(p.seq_no == 1);
  CHECK(p.node == "node-b");
  CHECK(p.source_addr == ip1);
  CHECK(p.source_port == 7946);
  CHECK(p.source_node == "node-a");
  // str8 and bin8 keys/values, unknown keys, any order.
  const std::string lenient = unhex("83a3466f6fc0d9054e6f646531c40101a55365714e6f07");
  PingMsg q;
  // "Node1" is not "Node": skipped; bin8 value of an unknown key skipped too.
  REQUIRE(decode(as_bytes(lenient), r, q));
  CHECK(q.seq_no == 7);
  CHECK(q.node.empty());
  // Truncated and wrong-typed input fails.
  CHECK_FALSE(decode(as_bytes(b).subspan(1, 20), r, p));
  const std::string wrong = unhex("81a55365714e6fa3616263");
  CHECK_FALSE(decode(as_bytes(wrong), r, p));
}

TEST_CASE("compound messages") {
  std::string ping, alive;
  encode(PingMsg{1, "node-b", ip1, 7946, "node-a"}, ping);
  encode(AliveMsg{1, "node-a", ip1, 7946, {}, vsn}, alive);
  const std::string_view parts[] = {ping, alive};
  std::string c;
  make_compound(parts, c);
  CHECK(hex(c.substr(0, 7)) == "07020045003e00");  // header + ping type byte
  CHECK(c.size() == 6 + 69 + 62);
  std::vector<Bytes> got;
  size_t trunc = 9;
  REQUIRE(split_compound(as_bytes(c).subspan(1), got, trunc));
  CHECK(trunc == 0);
  REQUIRE(got.size() == 2);
  CHECK(as_view(got[0]) == ping);
  CHECK(as_view(got[1]) == alive);
  // Cut inside the second part: the first survives, one is truncated.
  REQUIRE(split_compound(as_bytes(c).subspan(1, c.size() - 10), got, trunc));
  CHECK(got.size() == 1);
  CHECK(trunc == 1);
  CHECK_FALSE(split_compound(as_bytes(c).subspan(1, 3), got, trunc));
  CHECK_FALSE(split_compound({}, got, trunc));
}

TEST_CASE("captured Go compound decodes") {
  const std::string real = unhex(
      "07020012003c0282a75061796c6f6164c0a55365714e6f2a0486a441646472a47f000001ab496e6361726e617469"
      "6f6e01a44d657461c0a44e6f6465a47265616ca4506f7274cd4646a356736ea6010502000000");
  std::vector<Bytes> got;
  size_t trunc = 0;
  REQUIRE(split_compound(as_bytes(real).subspan(1), got, trunc));
  REQUIRE(got.size() == 2);
  MsgpackReader r;
  AckMsg ack;
  REQUIRE(decode(got[0].subspan(1), r, ack));
  CHECK(ack.seq_no == 42);
  AliveMsg a;
  REQUIRE(decode(got[1].subspan(1), r, a));
  CHECK(a.node == "real");
  CHECK(a.port == 17990);
  CHECK(a.vsn == vsn);
}
