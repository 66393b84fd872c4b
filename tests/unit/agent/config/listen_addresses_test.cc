#include "agent/config/listen_addresses.h"

#include <doctest/doctest.h>

using namespace cairn::config;

TEST_CASE("listen lists: IPs, and unix sockets where allowed") {
  std::vector<ListenAddress> out;
  REQUIRE(
      parse_listen_addresses("addresses.http", "127.0.0.1 ::1 unix:///run/c.sock", true, out).ok());
  REQUIRE(out.size() == 3);
  CHECK(out[0] == ListenAddress{"127.0.0.1", ""});
  CHECK(out[1].str() == "[::1]");
  CHECK(out[2].is_unix());
  CHECK(out[2].unix_path == "/run/c.sock");
  CHECK(out[2].str() == "unix:///run/c.sock");

  auto s = parse_listen_addresses("addresses.dns", "unix:///run/d.sock", false, out);
  CHECK(s.code == ListenStatus::Code::unix_refused);
  CHECK(s.message.rfind("addresses.dns: ", 0) == 0);
  s = parse_listen_addresses("addresses.http", "{{ GetPrivateIP }}", true, out);
  CHECK(s.code == ListenStatus::Code::not_an_ip);
  CHECK(parse_listen_addresses("addresses.http", "unix://", true, out).code ==
        ListenStatus::Code::bad_path);
  CHECK(
      parse_listen_addresses("addresses.http", "unix://" + std::string(200, 'x'), true, out).code ==
      ListenStatus::Code::bad_path);
  CHECK(parse_listen_addresses("client_addr", "  ", false, out).code == ListenStatus::Code::empty);
}

TEST_CASE("addresses.* replace client_addr per listener, as in Consul") {
  Config cfg;
  cfg.client_addr = "127.0.0.2";
  CHECK(http_listen_addresses(cfg) == std::vector<ListenAddress>{{"127.0.0.2", ""}});
  CHECK(dns_listen_addresses(cfg) == std::vector<ListenAddress>{{"127.0.0.2", ""}});
  cfg.addresses.http = "unix:///tmp/h.sock 127.0.0.3";
  cfg.addresses.dns = "127.0.0.4";
  auto http = http_listen_addresses(cfg);
  REQUIRE(http.size() == 2);
  CHECK(http[0].unix_path == "/tmp/h.sock");
  CHECK(http[1].ip == "127.0.0.3");
  CHECK(dns_listen_addresses(cfg) == std::vector<ListenAddress>{{"127.0.0.4", ""}});
  CHECK(check_listen_addresses(cfg).ok());
  // client_addr is only checked where a listener still uses it.
  cfg.client_addr = "not-an-ip";
  CHECK(check_listen_addresses(cfg).ok());
  cfg.addresses.dns.clear();
  CHECK(check_listen_addresses(cfg).message.rfind("client_addr: ", 0) == 0);
}

TEST_CASE("unix_sockets.mode is octal") {
  unsigned m = 0;
  CHECK(parse_socket_mode("0770", m));
  CHECK(m == 0770);
  CHECK(parse_socket_mode("600", m));
  CHECK(m == 0600);
  CHECK_FALSE(parse_socket_mode("0778", m));
  CHECK_FALSE(parse_socket_mode("rw", m));
  CHECK_FALSE(parse_socket_mode("", m));
  CHECK_FALSE(parse_socket_mode("07777", m));
}
