#include "common/http/request_parser.h"

#include <doctest/doctest.h>

#include <string>

using namespace cairn::http;

namespace {

struct Parsed {
  RequestParser::Result result;
  RequestParser::Error error;
  int status;
  Request request;
};

Parsed parse(const std::string& wire, RequestParser::Limits limits = {}) {
  RequestParser p(limits);
  size_t used = 0;
  Parsed out{p.feed(wire.data(), wire.size(), used), p.error(), p.error_status(), {}};
  if (out.result == RequestParser::Result::message) p.take(out.request);
  return out;
}

std::string put_with(const std::string& coding_fields, const std::string& body) {
  char size[16];
  snprintf(size, sizeof size, "%zx", body.size());
  return "PUT /v1/kv/k HTTP/1.1\r\nHost: x\r\n" + coding_fields + "\r\n" + size + "\r\n" + body +
         "\r\n0\r\n\r\n";
}

}  // namespace

TEST_CASE("chunked bodies arrive de-chunked, whatever the case of the coding") {
  for (const char* field : {"Transfer-Encoding: chunked\r\n", "transfer-encoding: Chunked \r\n"}) {
    auto p = parse(put_with(field, "hello"));
    REQUIRE(p.result == RequestParser::Result::message);
    CHECK(p.request.body == "hello");
  }
}

TEST_CASE("any transfer coding but chunked is 501, as in Go's net/http") {
  for (const char* field :
       {"Transfer-Encoding: gzip, chunked\r\n", "Transfer-Encoding: deflate,chunked\r\n",
        "Transfer-Encoding: chunked, chunked\r\n",
        "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: identity\r\n"}) {
    CAPTURE(field);
    auto p = parse(put_with(field, "x"));
    CHECK(p.result == RequestParser::Result::error);
    CHECK(p.error == RequestParser::Error::unsupported_transfer_coding);
    CHECK(p.status == 501);
  }
}

TEST_CASE("refusals say which limit fired") {
  auto big_header = parse("GET / HTTP/1.1\r\nX: " + std::string(200, 'a') + "\r\n\r\n", {100, 100});
  CHECK(big_header.error == RequestParser::Error::header_too_large);
  CHECK(big_header.status == 431);
  auto big_body = parse("PUT / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", {1000, 100});
  CHECK(big_body.error == RequestParser::Error::body_too_large);
  CHECK(big_body.status == 413);
  auto chunked_body =
      parse(put_with("Transfer-Encoding: chunked\r\n", std::string(101, 'b')), {1000, 100});
  CHECK(chunked_body.error == RequestParser::Error::body_too_large);
  auto garbage = parse("GET / HTTP/1.1\r\nBad Header\r\n\r\n");
  CHECK(garbage.error == RequestParser::Error::malformed);
  CHECK(garbage.status == 400);
}
