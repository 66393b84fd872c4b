#include "agent/config/advertise.h"

#include <doctest/doctest.h>

using cairn::config::choose_advertise_address;
using cairn::config::HostAddress;
using cairn::config::is_private_ipv4;

TEST_CASE("private IPv4 ranges are RFC 1918 and RFC 6598") {
  CHECK(is_private_ipv4("10.1.2.3"));
  CHECK(is_private_ipv4("172.16.0.1"));
  CHECK(is_private_ipv4("172.31.255.255"));
  CHECK_FALSE(is_private_ipv4("172.32.0.1"));
  CHECK(is_private_ipv4("192.168.1.1"));
  CHECK(is_private_ipv4("100.64.0.1"));
  CHECK_FALSE(is_private_ipv4("100.128.0.1"));
  CHECK_FALSE(is_private_ipv4("127.0.0.1"));
  CHECK_FALSE(is_private_ipv4("8.8.8.8"));
  CHECK_FALSE(is_private_ipv4("not an address"));
}

TEST_CASE("advertise_addr, then a specific bind_addr, win over the host's addresses") {
  std::string err;
  std::vector<HostAddress> host{{"eth0", "10.0.0.5"}};
  CHECK(choose_advertise_address("0.0.0.0", "192.0.2.1", host, "eth0", err) == "192.0.2.1");
  CHECK(choose_advertise_address("127.0.0.2", "", host, "eth0", err) == "127.0.0.2");
  CHECK(err.empty());
}

TEST_CASE("bind_addr 0.0.0.0 advertises the one private address") {
  std::string err;
  std::vector<HostAddress> host{{"eth0", "203.0.113.9"}, {"eth1", "10.0.0.5"}};
  CHECK(choose_advertise_address("0.0.0.0", "", host, "eth0", err) == "10.0.0.5");
}

TEST_CASE("several private addresses: the default route's interface decides, else an error") {
  std::string err;
  std::vector<HostAddress> host{{"docker0", "172.17.0.1"}, {"eth0", "10.0.0.5"}};
  CHECK(choose_advertise_address("0.0.0.0", "", host, "eth0", err) == "10.0.0.5");
  CHECK(choose_advertise_address("0.0.0.0", "", host, "", err).empty());
  CHECK(err.find("Multiple private IPv4 addresses found") == 0);
}

TEST_CASE("no private address is Consul's error") {
  std::string err;
  CHECK(choose_advertise_address("0.0.0.0", "", {{"eth0", "203.0.113.9"}}, "eth0", err).empty());
  CHECK(err.find("No private IPv4 address found") == 0);
}
