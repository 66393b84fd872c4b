#include "agent/checks/check_target.h"

#include <doctest/doctest.h>

#include "agent/checks/go_text.h"

#include <uv.h>

#include <cstdio>

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

namespace {

// A name the hosts file maps to a loopback address, so the lookup goes
// through getaddrinfo without asking any DNS server.
std::string hosts_file_name() {
  FILE* f = std::fopen("/etc/hosts", "r");
  if (!f) return "";
  char line[512];
  std::string found;
  while (found.empty() && std::fgets(line, sizeof line, f)) {
    char addr[128], name[256];
    if (std::sscanf(line, "%127s %255s", addr, name) != 2 || addr[0] == '#') continue;
    if (std::string(addr).rfind("127.", 0) == 0 && std::string(name) != "localhost") found = name;
  }
  std::fclose(f);
  return found;
}

}  // namespace

TEST_CASE("names are resolved off the loop, literals at once") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    HostResolver r(&loop);
    AddressList out;
    std::string error = "unset";
    r.resolve("127.0.0.1", 99, &out, [&](const std::string& e) { error = e; });
    CHECK(error.empty());  // synchronous for literals
    REQUIRE(out.size() == 1);

    std::string name = hosts_file_name();
    if (!name.empty()) {
      error = "unset";
      r.resolve(name, 8080, &out, [&](const std::string& e) { error = e; });
      CHECK(error == "unset");  // not yet: the thread pool answers later
      uv_run(&loop, UV_RUN_DEFAULT);
      CHECK(error.empty());
      REQUIRE(!out.empty());
      CHECK(address_text(out[0]).rfind("127.", 0) == 0);
      CHECK(address_text(out[0]).find(":8080") != std::string::npos);
    }
    // Abandoned lookups never call back.
    bool called = false;
    if (!name.empty()) {
      r.resolve(name, 1, &out, [&](const std::string&) { called = true; });
      r.cancel();
      uv_run(&loop, UV_RUN_DEFAULT);
      CHECK(!called);
    }
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}
