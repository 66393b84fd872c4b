// Incremental HTTP/1.1 request parsing on llhttp, one message at a time, with
// limits on header and body bytes. Pure: no sockets, so the server and the
// fuzzer drive the same code. Chunked bodies arrive de-chunked; any other
// transfer coding (e.g. "gzip, chunked") is refused with 501, as Go's
// net/http does, rather than stored still encoded.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <functional>
#include <string>

#include "common/http/message.h"

namespace cairn::http {

class RequestParser {
 public:
  struct Limits {
    size_t max_header_bytes = 64 * 1024;
    size_t max_body_bytes = 4 * 1024 * 1024;
  };
  enum class Result { need_more, message, error };
  // Why a request was refused: servers count each kind.
  enum class Error {
    none,
    malformed,
    header_too_large,
    body_too_large,
    unsupported_transfer_coding
  };

  explicit RequestParser(Limits limits);
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses data; sets consumed to the bytes used. After `message`, call take()
  // before feeding more; after `error`, the connection should answer
  // error_status()/error_message() and close.
  Result feed(const char* data, size_t len, size_t& consumed);
  // The completed request; false if its target is not a valid URL.
  bool take(Request& out);
  bool keep_alive() const { return keep_alive_; }
  Error error() const { return error_; }
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

  // Called when a request starts arriving (servers arm their request timeout).
  std::function<void()> on_message_begin;
  // Called when headers ask for "Expect: 100-continue".
  std::function<void()> on_expect_continue;

 private:
  static RequestParser* self(llhttp_t* p) { return static_cast<RequestParser*>(p->data); }
  static int cb_message_begin(llhttp_t* p);
  static int cb_url(llhttp_t* p, const char* at, size_t len);
  static int cb_header_field(llhttp_t* p, const char* at, size_t len);
  static int cb_header_value(llhttp_t* p, const char* at, size_t len);
  static int cb_headers_complete(llhttp_t* p);
  static int cb_body(llhttp_t* p, const char* at, size_t len);
  static int cb_message_complete(llhttp_t* p);
  bool count_header(size_t n);
  bool transfer_coding_supported() const;

  Limits limits_;
  llhttp_t parser_{};
  llhttp_settings_t settings_{};
  Request req_;
  size_t header_bytes_ = 0;
  bool last_was_value_ = false;
  bool too_large_headers_ = false;
  bool too_large_body_ = false;
  bool unsupported_coding_ = false;
  bool keep_alive_ = true;
  bool paused_ = false;
  Error error_ = Error::none;
  int error_status_ = 400;
  std::string error_message_;
};

// Splits a request target into percent-decoded path and query parameters.
bool parse_target(Request& r);

}  // namespace cairn::http
