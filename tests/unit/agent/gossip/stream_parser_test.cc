#include "agent/gossip/stream_parser.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "agent/gossip/framing.h"
#include "agent/gossip/lzw.h"
#include "agent/gossip/messages.h"
#include "tests/unit/agent/gossip/test_util.h"

using namespace cairn::gossip;
using cairn::gossip::test::unhex;
using Status = StreamParser::Status;

namespace {

constexpr size_t kBig = kMemberlistMaxStreamBytes;

std::string push_pull(int nodes, const std::string& user_state) {
  std::string pp;  // encode() writes the type byte
  encode(PushPullHeader{nodes, int64_t(user_state.size()), true}, pp);
  for (int i = 0; i < nodes; ++i) {
    const std::string name = "node-" + std::to_string(i);
    encode(PushNodeState{name, unhex("7f000001"), 8301, "meta", 1, 0, unhex("010502000000")}, pp);
  }
  return pp + user_state;
}

// Feeds buf in pieces of `piece` bytes, as reads deliver them.
Status feed_in_pieces(StreamParser& p, const std::string& buf, size_t piece) {
  Status s = Status::need_more;
  for (size_t end = std::min(piece, buf.size());; end = std::min(end + piece, buf.size())) {
    s = p.feed(as_bytes(buf).subspan(0, end));
    if (s != Status::need_more || end == buf.size()) return s;
  }
}

std::vector<std::string> whole_messages() {
  std::vector<std::string> out;
  out.push_back(push_pull(3, "xyz"));
  std::string lz, comp;
  lzw_compress(as_bytes(push_pull(2, "")), lz);
  encode(CompressMsg{0, lz}, comp);
  out.push_back(comp);
  out.push_back(unhex("0a00000003010203"));
  std::string labeled;
  add_label("dc1", labeled);
  out.push_back(labeled + comp);
  std::string ping;
  encode(PingMsg{7, "node-a", {}, 0, {}}, ping);
  out.push_back(ping);
  std::string user = "\x08";
  encode(UserMsgHeader{2}, user);
  out.push_back(user + "hi");
  return out;
}

}  // namespace

TEST_CASE("stream parser: a whole message is found however the bytes arrive") {
  for (const std::string& msg : whole_messages()) {
    CAPTURE(msg.size());
    for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, msg.size()}) {
      StreamParser p(kBig, false);
      CHECK(feed_in_pieces(p, msg + "trailing bytes", piece) == Status::complete);
      CHECK(p.size() == msg.size());
    }
    // One byte short is never whole.
    StreamParser p(kBig, false);
    CHECK(feed_in_pieces(p, msg.substr(0, msg.size() - 1), 1) == Status::need_more);
    CHECK(p.min_size() <= msg.size());
  }
}

TEST_CASE("stream parser: resumes where it stopped instead of parsing again") {
  // Bytes already looked at are not looked at again: overwrite them with a
  // byte no msgpack object starts with, and the message is still whole.
  std::string msg = push_pull(50, "state");
  StreamParser p(kBig, false);
  const size_t half = msg.size() / 2;
  CHECK(p.feed(as_bytes(msg).subspan(0, half)) == Status::need_more);
  for (size_t i = 20; i < half; ++i) msg[i] = '\xc1';
  CHECK(p.feed(as_bytes(msg)) == Status::complete);
  CHECK(p.size() == msg.size());
  // Parsing from the start would have refused it.
  StreamParser fresh(kBig, false);
  CHECK(fresh.feed(as_bytes(msg)) == Status::malformed);
}

TEST_CASE("stream parser: a message over the bound is refused as soon as it shows") {
  const size_t max = 64 * 1024;
  SUBCASE("encrypted length prefix, before any ciphertext") {
    StreamParser p(max, true);
    CHECK(p.feed(as_bytes(unhex("0a7fffffff"))) == Status::too_large);
    StreamParser at_limit(max, true);
    CHECK(at_limit.feed(as_bytes(unhex("0a0000fffb"))) == Status::need_more);  // 5 + 65531
    StreamParser over(max, true);
    CHECK(over.feed(as_bytes(unhex("0a0000fffc"))) == Status::too_large);
  }
  SUBCASE("user message length") {
    std::string user = "\x08";
    encode(UserMsgHeader{int64_t(max)}, user);
    StreamParser p(max, false);
    CHECK(p.feed(as_bytes(user)) == Status::too_large);
  }
  SUBCASE("push/pull node count and user state length") {
    std::string pp;
    encode(PushPullHeader{100000, 0, false}, pp);
    StreamParser nodes(max, false);
    CHECK(nodes.feed(as_bytes(pp)) == Status::too_large);
    pp.clear();
    encode(PushPullHeader{0, int64_t(max), false}, pp);
    StreamParser state(max, false);
    CHECK(state.feed(as_bytes(pp)) == Status::too_large);
    // memberlist's own node limit: malformed whatever the bound.
    pp.clear();
    encode(PushPullHeader{kMaxPushPullNodes + 1, 0, false}, pp);
    StreamParser many(kBig, false);
    CHECK(many.feed(as_bytes(pp)) == Status::malformed);
  }
  SUBCASE("a string length inside a message") {
    // ping map with a str32 claiming 16 MiB: refused from its 5-byte header.
    const std::string ping = unhex("0081a44e6f6465db01000000");
    StreamParser p(max, false);
    CHECK(p.feed(as_bytes(ping)) == Status::too_large);
    StreamParser big(kBig, false);
    CHECK(big.feed(as_bytes(ping)) == Status::need_more);
    CHECK(big.min_size() == ping.size() + 0x01000000);
  }
  SUBCASE("a message that arrives whole in one read") {
    const std::string msg = push_pull(1000, std::string(1000, 'u'));
    REQUIRE(msg.size() > 4096);
    StreamParser p(4096, false);
    CHECK(p.feed(as_bytes(msg)) == Status::too_large);
    StreamParser fits(msg.size(), false);
    CHECK(fits.feed(as_bytes(msg)) == Status::complete);
  }
  SUBCASE("trickled bytes that never end a message") {
    // A push/pull whose one node state is a 2^20-element array of nils: the
    // element count alone is over the bound.
    std::string pp;
    encode(PushPullHeader{1, 0, false}, pp);
    pp += unhex("dd00100000");
    StreamParser p(max, false);
    CHECK(feed_in_pieces(p, pp, 1) == Status::too_large);
  }
}

TEST_CASE(
    "stream parser: unencrypted streams are settled at the type byte when encryption is required") {
  const std::string pp = push_pull(2, "");
  StreamParser p(kBig, true);
  CHECK(p.feed(as_bytes(pp).subspan(0, 1)) == Status::unencrypted);
  CHECK(p.size() == 1);
  std::string labeled;
  add_label("dc1", labeled);
  labeled += pp;
  StreamParser l(kBig, true);
  CHECK(feed_in_pieces(l, labeled, 1) == Status::unencrypted);
  CHECK(l.size() == 6);
  // Without the requirement the same stream is read whole.
  StreamParser plain(kBig, false);
  CHECK(plain.feed(as_bytes(pp)) == Status::complete);
}

TEST_CASE("stream parser: malformed input and a verdict that stays") {
  StreamParser junk(kBig, false);
  CHECK(junk.feed(as_bytes(unhex("77"))) == Status::malformed);
  CHECK(junk.feed(as_bytes(unhex("77"))) == Status::malformed);
  StreamParser bad_obj(kBig, false);
  CHECK(bad_obj.feed(as_bytes(unhex("00c1"))) == Status::malformed);
  std::string neg = "\x08";
  encode(UserMsgHeader{-1}, neg);
  StreamParser negative(kBig, false);
  CHECK(negative.feed(as_bytes(neg)) == Status::malformed);
  StreamParser done(kBig, false);
  const std::string user = whole_messages().back();
  CHECK(done.feed(as_bytes(user)) == Status::complete);
  CHECK(done.feed(as_bytes(user + "more")) == Status::complete);
  CHECK(done.size() == user.size());
}
