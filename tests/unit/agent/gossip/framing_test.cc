#include "agent/gossip/framing.h"

#include <doctest/doctest.h>

#include "agent/gossip/messages.h"
#include "tests/unit/agent/gossip/test_util.h"

using namespace cairn::gossip;
using cairn::gossip::test::hex;
using cairn::gossip::test::unhex;

TEST_CASE("CRC header matches memberlist") {
  std::string ack, out;
  encode(AckMsg{1, {}}, ack);
  add_crc(as_bytes(ack), out);
  CHECK(hex(out) == "0c41a888da0282a75061796c6f6164c0a55365714e6f01");
  // The captured Go gossip packet carries a valid CRC.
  const std::string real = unhex(
      "0c602894ab0486a441646472a47f000001ab496e6361726e6174696f6e01a44d657461c0a44e6f6465a466616b65"
      "a4506f7274cd4647a356736ea6010502000000");
  const uint32_t want = 0x602894ab;
  CHECK(crc32_ieee(as_bytes(real).subspan(5)) == want);
}

TEST_CASE("label header") {
  std::string out;
  add_label("dc1", out);
  std::string ack;
  encode(AckMsg{1, {}}, ack);
  out += ack;
  CHECK(hex(out) == "f4036463310282a75061796c6f6164c0a55365714e6f01");
  Bytes b = as_bytes(out);
  CHECK(strip_label(b, "dc1", false) == LabelResult::ok);
  CHECK(as_view(b) == ack);
  b = as_bytes(out);
  CHECK(strip_label(b, "dc2", false) == LabelResult::mismatch);
  b = as_bytes(ack);
  CHECK(strip_label(b, "dc1", false) == LabelResult::mismatch);
  b = as_bytes(ack);
  CHECK(strip_label(b, "dc1", true) == LabelResult::ok);
  b = as_bytes(ack);
  CHECK(strip_label(b, "", false) == LabelResult::ok);
  const std::string cut = unhex("f405646331");
  b = as_bytes(cut);
  CHECK(strip_label(b, "", false) == LabelResult::malformed);
}
