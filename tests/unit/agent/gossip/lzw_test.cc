#include "agent/gossip/lzw.h"

#include <doctest/doctest.h>

#include <random>

#include "agent/gossip/messages.h"
#include "tests/unit/agent/gossip/test_util.h"

using namespace cairn::gossip;
using cairn::gossip::test::hex;
using cairn::gossip::test::unhex;

TEST_CASE("LZW matches Go's compress/lzw (LSB, width 8)") {
  std::string out;
  lzw_compress(as_bytes(std::string_view("hello hello hello hello")), out);
  CHECK(hex(out) == "00d19461c3e60d0881040d222c787060c180");
  std::string back;
  REQUIRE(lzw_decompress(as_bytes(out), 1 << 20, back));
  CHECK(back == "hello hello hello hello");
}

TEST_CASE("compress wrapper of an ack matches memberlist") {
  std::string ack;
  encode(AckMsg{1, {}}, ack);
  std::string lz, msg;
  lzw_compress(as_bytes(ack), lz);
  encode(CompressMsg{0, lz}, msg);
  CHECK(hex(msg) == "0982a4416c676f00a3427566b70005083a05254c1e366fc29001566a4a99384ede040808");
}

TEST_CASE("LZW round trips across table resets and widths") {
  std::mt19937 rng(42);
  for (size_t n : {0u, 1u, 2u, 255u, 4096u, 70000u, 300000u}) {
    for (int alphabet : {2, 16, 256}) {
      std::string in(n, '\0');
      for (auto& c : in) c = static_cast<char>(rng() % alphabet);
      std::string z, back;
      lzw_compress(as_bytes(in), z);
      REQUIRE(lzw_decompress(as_bytes(z), in.size() + 1, back));
      CHECK(back == in);
    }
  }
}

TEST_CASE("LZW rejects garbage, missing EOF and bombs") {
  std::string z, back;
  lzw_compress(as_bytes(std::string(100000, 'a')), z);
  CHECK_FALSE(lzw_decompress(as_bytes(z), 1000, back));  // over the limit
  CHECK_FALSE(lzw_decompress(as_bytes(z).subspan(0, z.size() - 2), 1 << 20, back));  // no EOF
  const std::string bad = unhex("ffffffffff");
  CHECK_FALSE(lzw_decompress(as_bytes(bad), 1 << 20, back));
}
