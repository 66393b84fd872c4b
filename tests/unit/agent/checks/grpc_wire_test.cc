#include "agent/checks/grpc_wire.h"

#include <doctest/doctest.h>

using namespace cairn::checks;

TEST_CASE("Consul's host:port/service target") {
  std::string server, service;
  split_grpc_target("127.0.0.1:50051/my.Service", server, service);
  CHECK(server == "127.0.0.1:50051");
  CHECK(service == "my.Service");
  split_grpc_target("[::1]:9", server, service);
  CHECK(server == "[::1]:9");
  CHECK(service.empty());
}

TEST_CASE("the request message") {
  CHECK(encode_health_request("") == std::string("\0\0\0\0\0", 5));
  CHECK(encode_health_request("ab") == std::string("\0\0\0\0\4\x0a\x02"
                                                   "ab",
                                                   9));
}

TEST_CASE("reads the serving status, skipping unknown fields") {
  HealthResponseReader r;
  std::string err;
  std::string msg("\0\0\0\0\2\x08\x01", 7);
  r.append(reinterpret_cast<const uint8_t*>(msg.data()), 3);
  CHECK(r.status(&err) == -1);  // not all there yet
  r.append(reinterpret_cast<const uint8_t*>(msg.data()) + 3, msg.size() - 3);
  CHECK(r.status(&err) == 1);

  r.reset();
  std::string other("\0\0\0\0\x09\x12\x03xyz\x08\x02\x1d\1\2", 14);
  r.append(reinterpret_cast<const uint8_t*>(other.data()), other.size());
  CHECK(r.status(&err) == -1);  // a fixed32 cut short
  r.reset();
  std::string ok("\0\0\0\0\x07\x12\x03xyz\x08\x02", 12);
  r.append(reinterpret_cast<const uint8_t*>(ok.data()), ok.size());
  CHECK(r.status(&err) == 2);
  CHECK(serving_status_name(2) == "NOT_SERVING");

  r.reset();
  std::string empty("\0\0\0\0\0", 5);  // proto3 default: UNKNOWN
  r.append(reinterpret_cast<const uint8_t*>(empty.data()), empty.size());
  CHECK(r.status(&err) == 0);
}

TEST_CASE("names and messages as grpc-go prints them") {
  CHECK(grpc_code_name(5) == "NotFound");
  CHECK(grpc_code_name(14) == "Unavailable");
  CHECK(grpc_code_name(99) == "Unknown");
  CHECK(decode_grpc_message("unknown%20service%") == "unknown service%");
}
