#include "agent/checks/check_target.h"

#include <doctest/doctest.h>

#include "agent/checks/go_text.h"

using namespace cairn::checks;

TEST_CASE("host:port as Go's SplitHostPort reads it") {
  std::string err;
  auto hp = split_host_port("127.0.0.1:80", &err);
  REQUIRE(hp);
  CHECK(hp->host == "127.0.0.1");
  CHECK(hp->port == 80);
  hp = split_host_port("[::1]:8500", &err);
  REQUIRE(hp);
  CHECK(hp->host == "::1");
  hp = split_host_port("db.internal:5432", &err);
  REQUIRE(hp);
  CHECK(hp->host == "db.internal");
  CHECK(!split_host_port("127.0.0.1", &err));
  CHECK(err == "address 127.0.0.1: missing port in address");
  CHECK(!split_host_port("::1:80", &err));
  CHECK(!split_host_port("h:", &err));
  CHECK(!split_host_port("h:70000", &err));
  CHECK(!split_host_port("[::1", &err));
}

TEST_CASE("literals and localhost need no lookup") {
  AddressList out;
  CHECK(literal_addresses("10.1.2.3", 80, out));
  REQUIRE(out.size() == 1);
  CHECK(address_text(out[0]) == "10.1.2.3:80");
  CHECK(literal_addresses("::1", 81, out));
  CHECK(address_text(out[0]) == "[::1]:81");
  CHECK(literal_addresses("localhost", 82, out));
  REQUIRE(out.size() == 2);
  CHECK(address_text(out[0]) == "127.0.0.1:82");
  CHECK(!literal_addresses("db.internal", 80, out));
  CHECK(is_ip_literal("192.168.0.1"));
  CHECK(!is_ip_literal("example.com"));
}

TEST_CASE("Go's texts") {
  CHECK(errno_text(ECONNREFUSED) == "connection refused");
  CHECK(go_quote("a\"b\\c\n") == "\"a\\\"b\\\\c\\n\"");
  CHECK(url_error_op("GET") == "Get");
  CHECK(url_error_op("POST") == "Post");
}
