#include "common/net/address.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>

using namespace cairn::net;

TEST_CASE("endpoint_of takes IP literals, bracketed or not, and nothing else") {
  auto v4 = endpoint_of("127.0.0.1", 8600);
  REQUIRE(v4);
  CHECK(v4->family() == AF_INET);
  CHECK(v4->to_string() == "127.0.0.1:8600");
  auto v6 = endpoint_of("[::1]", 53);
  REQUIRE(v6);
  CHECK(v6->family() == AF_INET6);
  CHECK(v6->to_string() == "[::1]:53");
  CHECK(endpoint_of("::1", 0)->port() == 0);
  CHECK_FALSE(endpoint_of("localhost", 53));
  CHECK_FALSE(endpoint_of("", 53));
  CHECK_FALSE(endpoint_of("[]", 53));
  CHECK_FALSE(endpoint_of("127.0.0.1:53", 53));  // the port is given apart
  CHECK_FALSE(endpoint_of(std::string(200, '1'), 53));
}

TEST_CASE("parse_endpoint: optional ports in every spelling") {
  CHECK(parse_endpoint("10.0.0.2", 53)->to_string() == "10.0.0.2:53");
  CHECK(parse_endpoint("10.0.0.2:5353", 53)->to_string() == "10.0.0.2:5353");
  CHECK(parse_endpoint("10.0.0.2#5353", 53)->to_string() == "10.0.0.2:5353");
  CHECK(parse_endpoint("[fd00::1]:5353", 53)->to_string() == "[fd00::1]:5353");
  CHECK(parse_endpoint("fd00::1", 53)->to_string() == "[fd00::1]:53");
  CHECK_FALSE(parse_endpoint("10.0.0.2:0", 53));
  CHECK_FALSE(parse_endpoint("10.0.0.2:65536", 53));
  CHECK_FALSE(parse_endpoint("[::1", 53));
}

TEST_CASE("parse_ip and ip_of fold IPv4-mapped addresses to IPv4") {
  IpAddr a = parse_ip("10.0.0.1");
  CHECK(a.len == 4);
  CHECK(parse_ip("::ffff:10.0.0.1") == a);
  CHECK(parse_ip("2001:db8::1").len == 16);
  CHECK(parse_ip("web-01").len == 0);
  CHECK(parse_ip("").len == 0);
  auto mapped = endpoint_of("::ffff:10.0.0.1", 53);
  REQUIRE(mapped);
  CHECK(ip_of(mapped->sa()) == a);
  CHECK(ip_of(endpoint_of("::1", 53)->sa()).len == 16);
}
