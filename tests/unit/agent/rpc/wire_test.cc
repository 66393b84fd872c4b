#include "agent/rpc/wire.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "agent/rpc/status.h"

namespace cairn::rpc {

namespace {

std::vector<std::string> read_all(wire::MessageReader& reader, const std::string& bytes,
                                  size_t chunk, wire::MessageReader::Result* result = nullptr) {
  std::vector<std::string> out;
  auto r = wire::MessageReader::Result::ok;
  for (size_t i = 0; i < bytes.size() && r == wire::MessageReader::Result::ok; i += chunk) {
    size_t n = std::min(chunk, bytes.size() - i);
    r = reader.feed(reinterpret_cast<const uint8_t*>(bytes.data() + i), n,
                    [&](std::string_view m) { out.emplace_back(m); });
  }
  if (result) *result = r;
  return out;
}

}  // namespace

TEST_CASE("messages come back whole and in order, whatever the chunking") {
  std::string body;
  std::vector<std::string> sent = {"", "a", std::string(70'000, 'x'), "hello", ""};
  for (auto& m : sent) wire::append_message(body, m);
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{4}, size_t{5}, size_t{1000}, body.size()}) {
    wire::MessageReader reader(1 << 20);
    CHECK(read_all(reader, body, chunk) == sent);
    CHECK_FALSE(reader.mid_message());
  }
}

TEST_CASE("a message over the bound is refused from its prefix, before buffering") {
  std::string body;
  wire::append_message(body, std::string(2000, 'y'));
  wire::MessageReader reader(1000);
  wire::MessageReader::Result result;
  auto got = read_all(reader, body.substr(0, 4), 4, &result);
  CHECK(got.empty());
  CHECK(result == wire::MessageReader::Result::too_large);
}

TEST_CASE("a stream cut inside a message is noticed") {
  std::string body;
  wire::append_message(body, "abcdef");
  wire::MessageReader reader(100);
  read_all(reader, body.substr(0, 6), 6);
  CHECK(reader.mid_message());
}

TEST_CASE("status codes travel by name and back") {
  for (int i = 0; i <= static_cast<int>(Status::Code::internal); ++i) {
    auto code = static_cast<Status::Code>(i);
    Status::Code back;
    REQUIRE(parse_code(code_name(code), back));
    CHECK(back == code);
  }
  Status::Code c;
  CHECK_FALSE(parse_code("nope", c));
  CHECK(Status(Status::Code::timeout, "x").to_string() == "timeout: x");
  CHECK(Status(Status::Code::unavailable).not_sent());
  CHECK_FALSE(Status(Status::Code::unknown_outcome).not_sent());
}

TEST_CASE("method names and header-safe messages") {
  CHECK(wire::valid_method("Catalog.Register"));
  CHECK(wire::valid_method("kv_get-2"));
  CHECK_FALSE(wire::valid_method(""));
  CHECK_FALSE(wire::valid_method("a/b"));
  CHECK_FALSE(wire::valid_method(std::string(200, 'a')));
  CHECK(wire::header_safe("  line\r\nbreak\0 ") == "line  break");
  CHECK(wire::header_safe(std::string(5000, 'm')).size() == wire::kMaxStatusMessage);
}

}  // namespace cairn::rpc
