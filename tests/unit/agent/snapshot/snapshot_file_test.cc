// The snapshot file: what is written reads back the same, and every way a
// file can be wrong (truncated, flipped, foreign, newer, oversized, lengths
// that lie) is refused with its own code before anything is returned.
#include "agent/snapshot/snapshot_file.h"

#include <doctest/doctest.h>

#include <openssl/evp.h>

using namespace cairn::snapshot;

namespace {

Snapshot sample() {
  Snapshot s;
  s.meta.index = 42;
  s.meta.term = 1;
  s.meta.created_unix_ms = 1'700'000'000'000;
  s.meta.datacenter = "dc1";
  s.meta.cairn_version = "0.1.0";
  s.records = {{"/cairn/node/web-1", R"({"Node":"web-1"})"},
               {"/cairn/kv/a/b", R"({"Value":"aGk="})"},
               {"/cairn/kv/empty", ""}};
  return s;
}

// Re-seals bytes with a fresh checksum, so a test reaches the checks after it.
std::string reseal(std::string bytes) {
  bytes.resize(bytes.size() - kChecksumBytes);
  unsigned char d[kChecksumBytes];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), d, &len, EVP_sha256(), nullptr);
  bytes.append(reinterpret_cast<const char*>(d), len);
  return bytes;
}

ErrorCode decode_code(std::string_view bytes, Limits limits = {}) {
  Snapshot out;
  out.meta.index = 7;
  Status st = decode(bytes, limits, out);
  if (!st.ok()) {
    CHECK_FALSE(st.message.empty());
    CHECK(out.meta.index == 7);  // untouched on failure
  }
  return st.code;
}

}  // namespace

TEST_CASE("snapshot: a written snapshot reads back the same") {
  Snapshot s = sample();
  std::string bytes = encode(s);
  CHECK(bytes.substr(0, 8) == "CAIRNSNP");
  Snapshot back;
  Status st = decode(bytes, {}, back);
  REQUIRE_MESSAGE(st.ok(), st.message);
  CHECK(back.meta.version == kFormatVersion);
  CHECK(back.meta.index == 42);
  CHECK(back.meta.term == 1);
  CHECK(back.meta.created_unix_ms == 1'700'000'000'000);
  CHECK(back.meta.datacenter == "dc1");
  CHECK(back.meta.cairn_version == "0.1.0");
  REQUIRE(back.records.size() == 3);
  CHECK(back.records[1].key == "/cairn/kv/a/b");
  CHECK(back.records[1].value == R"({"Value":"aGk="})");
  CHECK(back.records[2].value.empty());
  CHECK(snapshot_id(back.meta) == "1-42-1700000000000");
}

TEST_CASE("snapshot: an empty store is a valid snapshot") {
  Snapshot s;
  Snapshot back;
  REQUIRE(decode(encode(s), {}, back).ok());
  CHECK(back.records.empty());
}

TEST_CASE("snapshot: every prefix of a file is refused") {
  std::string bytes = encode(sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    ErrorCode c = decode_code(std::string_view(bytes).substr(0, n));
    CHECK(c != ErrorCode::ok);
  }
  CHECK(decode_code(std::string_view(bytes).substr(0, 8)) == ErrorCode::truncated);
  CHECK(decode_code(std::string_view(bytes).substr(0, bytes.size() - 1)) ==
        ErrorCode::checksum_mismatch);
}

TEST_CASE("snapshot: any flipped byte is refused") {
  std::string bytes = encode(sample());
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    CHECK(decode_code(bad) != ErrorCode::ok);
  }
  std::string bad = bytes;
  bad[bytes.size() / 2] ^= 1;
  CHECK(decode_code(bad) == ErrorCode::checksum_mismatch);
}

TEST_CASE("snapshot: foreign files, other versions and oversized files") {
  CHECK(decode_code("") == ErrorCode::bad_magic);
  CHECK(decode_code("{\"not\":\"a snapshot\"}") == ErrorCode::bad_magic);
  std::string bytes = encode(sample());
  std::string newer = bytes;
  newer[11] = 2;  // version 2
  CHECK(decode_code(reseal(newer)) == ErrorCode::unsupported_version);
  CHECK(decode_code(newer) == ErrorCode::unsupported_version);
  CHECK(decode_code(bytes, Limits{bytes.size() - 1}) == ErrorCode::too_large);
  CHECK(decode_code(bytes, Limits{bytes.size()}) == ErrorCode::ok);
}

TEST_CASE("snapshot: lengths that do not add up are refused even with a valid checksum") {
  Snapshot s = sample();
  std::string bytes = encode(s);
  // The record count sits right before the first record.
  size_t count_at = 8 + 4 + 8 + 8 + 8 + 2 + 3 + 2 + 5;
  REQUIRE(static_cast<unsigned char>(bytes[count_at + 3]) == 3);
  std::string more = bytes;
  more[count_at] = 0x7f;  // billions of records in a few bytes
  CHECK(decode_code(reseal(more)) == ErrorCode::malformed);
  std::string fewer = bytes;
  fewer[count_at + 3] = 2;  // one record left over
  CHECK(decode_code(reseal(fewer)) == ErrorCode::malformed);
  std::string long_key = bytes;
  long_key[count_at + 4] = 0x7f;  // the first key runs past the end
  CHECK(decode_code(reseal(long_key)) == ErrorCode::malformed);

  Snapshot foreign = sample();
  foreign.records.push_back({"/elsewhere/x", "{}"});
  CHECK(decode_code(encode(foreign)) == ErrorCode::malformed);
}

TEST_CASE("snapshot: table statistics for inspect") {
  std::vector<TableStats> t = table_stats(sample());
  REQUIRE(t.size() == 2);
  CHECK(t[0].table == "node");
  CHECK(t[0].count == 1);
  CHECK(t[1].table == "kv");
  CHECK(t[1].count == 2);
  CHECK(t[1].bytes ==
        std::string("/cairn/kv/a/b").size() + 16 + std::string("/cairn/kv/empty").size());
  CHECK(record_table("/cairn/kv/x") == "kv");
  CHECK(record_table("/cairn/kv") == "");
  CHECK(record_table("/cairn//x") == "");
  CHECK(record_table("/other/kv/x") == "");
}
