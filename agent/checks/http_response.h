// Reads one HTTP/1.x response as a check needs it: the status line, the
// Location header (for redirects), and the body up to a cap. llhttp does
// the parsing; this keeps only what the check reports, in bounded memory
// whatever the server sends. Pure: bytes in, state out (and fuzzed).
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace cairn::checks {

class HttpResponseParser {
 public:
  enum class State { incomplete, complete, error };

  HttpResponseParser();
  HttpResponseParser(const HttpResponseParser&) = delete;
  HttpResponseParser& operator=(const HttpResponseParser&) = delete;

  // Starts a new response. Bodies beyond body_cap bytes end the response
  // early (the check has what it reports). HEAD responses have no body.
  void reset(size_t body_cap, bool head_request);
  State feed(const char* data, size_t len);
  // The server closed the connection.
  State finish_eof();

  State state() const { return state_; }
  bool headers_complete() const { return headers_complete_; }
  int status_code() const { return status_code_; }
  // "200 OK", as Go's Response.Status (code, space, reason as sent).
  const std::string& status_text() const { return status_text_; }
  // The Location header's value; has_location() tells an empty one from none.
  const std::string& location() const { return location_; }
  bool has_location() const { return location_seen_; }
  const std::string& body() const { return body_; }
  // Go's text for what went wrong (malformed response, EOF before headers).
  const std::string& error() const { return error_; }

  // Limits on what is kept from a hostile server.
  static constexpr size_t kMaxReason = 512;
  static constexpr size_t kMaxLocation = 8192;

 private:
  static int on_status(llhttp_t* p, const char* at, size_t len);
  static int on_header_field(llhttp_t* p, const char* at, size_t len);
  static int on_header_field_complete(llhttp_t* p);
  static int on_header_value(llhttp_t* p, const char* at, size_t len);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, size_t len);
  static int on_message_complete(llhttp_t* p);
  static const llhttp_settings_t& settings();

  void fail(std::string_view what);

  llhttp_t parser_;
  State state_ = State::incomplete;
  size_t body_cap_ = 0;
  bool head_ = false;
  bool headers_complete_ = false;
  bool saw_bytes_ = false;
  int status_code_ = 0;
  std::string reason_;
  std::string status_text_;
  std::string location_;
  std::string body_;
  // Header name matching "location" as it arrives, possibly split across reads.
  bool in_field_ = false;
  size_t field_len_ = 0;
  bool field_is_location_ = false;
  bool value_is_location_ = false;
  bool location_seen_ = false;
  std::string first_bytes_;  // for Go's "malformed HTTP response" text
  std::string error_;
};

}  // namespace cairn::checks
