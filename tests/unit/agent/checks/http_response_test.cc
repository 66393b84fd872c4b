#include "agent/checks/http_response.h"

#include <doctest/doctest.h>

#include <string>

using cairn::checks::HttpResponseParser;
using State = HttpResponseParser::State;

namespace {

// Feeds a response one byte at a time: the parser must not care how reads split.
State feed_bytewise(HttpResponseParser& p, const std::string& s) {
  State st = State::incomplete;
  for (char c : s) {
    st = p.feed(&c, 1);
    if (st != State::incomplete) break;
  }
  return st;
}

}  // namespace

TEST_CASE("status line, Location and a Content-Length body") {
  HttpResponseParser p;
  p.reset(4096, false);
  std::string r = "HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 5\r\n\r\nhello";
  CHECK(feed_bytewise(p, r) == State::complete);
  CHECK(p.status_code() == 302);
  CHECK(p.status_text() == "302 Found");
  CHECK(p.has_location());
  CHECK(p.location() == "/next");
  CHECK(p.body() == "hello");
}

TEST_CASE("chunked body, headers in any case, first Location wins") {
  HttpResponseParser p;
  p.reset(4096, false);
  std::string r =
      "HTTP/1.1 200 OK\r\nLOCATION: /a\r\nlocation: /b\r\nX-Locations: no\r\n"
      "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  CHECK(p.feed(r.data(), r.size()) == State::complete);
  CHECK(p.location() == "/a");
  CHECK(p.body() == "abcde");
}

TEST_CASE("a body without length ends with the connection") {
  HttpResponseParser p;
  p.reset(4096, false);
  std::string r = "HTTP/1.0 200 OK\r\n\r\npartial";
  CHECK(p.feed(r.data(), r.size()) == State::incomplete);
  CHECK(p.finish_eof() == State::complete);
  CHECK(p.body() == "partial");
  CHECK(p.status_text() == "200 OK");
}

TEST_CASE("the body is capped and reading stops at the cap") {
  HttpResponseParser p;
  p.reset(10, false);
  std::string r = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100000000\r\n\r\n" +
                  std::string(64, 'x');
  CHECK(p.feed(r.data(), r.size()) == State::complete);
  CHECK(p.body() == std::string(10, 'x'));
  CHECK(p.status_code() == 500);
}

TEST_CASE("interim responses are skipped; HEAD has no body") {
  HttpResponseParser p;
  p.reset(4096, true);
  std::string r = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
  CHECK(p.feed(r.data(), r.size()) == State::complete);
  CHECK(p.status_code() == 200);
  CHECK(p.body().empty());
}

TEST_CASE("a status line without a reason, as Go shows it") {
  HttpResponseParser p;
  p.reset(4096, false);
  std::string r = "HTTP/1.1 429\r\nContent-Length: 0\r\n\r\n";
  CHECK(p.feed(r.data(), r.size()) == State::complete);
  CHECK(p.status_text() == "429");
}

TEST_CASE("garbage and early EOF are errors with Go's texts") {
  HttpResponseParser p;
  p.reset(4096, false);
  std::string g = "SSH-2.0-OpenSSH_9.2\r\n";
  CHECK(p.feed(g.data(), g.size()) == State::error);
  CHECK(p.error().find("malformed HTTP response \"SSH-2.0-OpenSSH_9.2\"") != std::string::npos);

  p.reset(4096, false);
  CHECK(p.finish_eof() == State::error);
  CHECK(p.error() == "EOF");

  p.reset(4096, false);
  std::string half = "HTTP/1.1 200 O";
  CHECK(p.feed(half.data(), half.size()) == State::incomplete);
  CHECK(p.finish_eof() == State::error);
  CHECK(p.error() == "unexpected EOF");
}

TEST_CASE("huge reasons and locations are bounded") {
  HttpResponseParser p;
  p.reset(4096, false);
  std::string r = "HTTP/1.1 301 " + std::string(5000, 'r') + "\r\nLocation: /" +
                  std::string(20000, 'l') + "\r\nContent-Length: 0\r\n\r\n";
  CHECK(p.feed(r.data(), r.size()) == State::complete);
  CHECK(p.status_text().size() <= HttpResponseParser::kMaxReason + 4);
  CHECK(p.location().size() == HttpResponseParser::kMaxLocation);
}
