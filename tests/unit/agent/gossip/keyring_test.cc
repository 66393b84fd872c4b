#include "agent/gossip/keyring.h"

#include <doctest/doctest.h>

#include "agent/gossip/messages.h"
#include "tests/unit/agent/gossip/test_util.h"

using namespace cairn::gossip;
using cairn::gossip::test::unhex;

namespace {
const std::string key = unhex("000102030405060708090a0b0c0d0e0f");
}

TEST_CASE("decrypts memberlist's UDP vector, with and without label") {
  Keyring ring;
  REQUIRE(ring.install(key));
  std::string plain;
  const std::string udp = unhex(
      "01a0a1a2a3a4a5a6a7a8a9aaaba8049feb1ff05f65eb1c75a51577c12e3cef8dd20a626aa67e928e8f2043b44cc3"
      "4a");
  REQUIRE(decrypt_payload(ring, as_bytes(udp), {}, plain));
  CHECK(plain == unhex("0282a75061796c6f6164c0a55365714e6f01"));
  // Same ciphertext with label "dc1" as AAD (the header itself is stripped first).
  const std::string labeled = unhex(
      "01a0a1a2a3a4a5a6a7a8a9aaaba8049feb1ff05f65eb1c75a51577c12e3cef867fb2767a7a2625254d268de4daba"
      "10");
  plain.clear();
  CHECK_FALSE(decrypt_payload(ring, as_bytes(labeled), {}, plain));
  REQUIRE(decrypt_payload(ring, as_bytes(labeled), as_bytes(std::string_view("dc1")), plain));
  CHECK(plain == unhex("0282a75061796c6f6164c0a55365714e6f01"));
}

TEST_CASE("decrypts the TCP frame vector (AAD = frame header)") {
  Keyring ring;
  REQUIRE(ring.install(key));
  const std::string frame = unhex(
      "0a0000002f01a0a1a2a3a4a5a6a7a8a9aaaba8049feb1ff05f65eb1c75a51577c12e3cef34b21ef1ad2a758a0538"
      "d7eeb3604f70");
  std::string plain;
  REQUIRE(decrypt_payload(ring, as_bytes(frame).subspan(5), as_bytes(frame).subspan(0, 5), plain));
  CHECK(plain == unhex("0282a75061796c6f6164c0a55365714e6f01"));
}

TEST_CASE("keyring rotation: any installed key decrypts, the primary encrypts") {
  Keyring a, b;
  const std::string k2(32, 'x');
  REQUIRE(a.install(key));
  REQUIRE(b.install(k2));
  REQUIRE(b.install(key));
  CHECK_FALSE(a.install("short"));
  std::string ct, plain;
  REQUIRE(encrypt_payload(a.primary(), as_bytes(std::string_view("hello")), {}, ct));
  CHECK(ct.size() == 5 + kEncryptOverhead);
  REQUIRE(decrypt_payload(b, as_bytes(ct), {}, plain));
  CHECK(plain == "hello");
  // Wrong key, corrupted tag, short input, bad version.
  Keyring c;
  REQUIRE(c.install(k2));
  plain.clear();
  CHECK_FALSE(decrypt_payload(c, as_bytes(ct), {}, plain));
  std::string bad = ct;
  bad.back() ^= 1;
  CHECK_FALSE(decrypt_payload(a, as_bytes(bad), {}, plain));
  CHECK_FALSE(decrypt_payload(a, as_bytes(ct).subspan(0, 20), {}, plain));
  bad = ct;
  bad[0] = 2;
  CHECK_FALSE(decrypt_payload(a, as_bytes(bad), {}, plain));
  CHECK(plain.empty());
  // use / remove
  CHECK(b.use(key));
  CHECK(b.primary() == key);
  CHECK_FALSE(b.remove(key));  // the primary stays
  CHECK(b.remove(k2));
  CHECK(b.keys().size() == 1);
}

TEST_CASE("base64 keys") {
  const std::string raw = Keyring::decode_base64("AAECAwQFBgcICQoLDA0ODw==");
  CHECK(raw == key);
  CHECK(Keyring::encode_base64(key) == "AAECAwQFBgcICQoLDA0ODw==");
  CHECK(Keyring::decode_base64("not base64!").empty());
}
