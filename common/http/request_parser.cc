#include "common/http/request_parser.h"

#include <strings.h>

namespace cairn::http {

bool parse_target(Request& r) {
  std::string_view t = r.target;
  size_t q = t.find('?');
  std::string_view p = t.substr(0, q);
  auto decoded = percent_decode(p, false);
  // Consul rejects a decoded line feed anywhere in the path.
  if (!decoded || decoded->find('\n') != std::string::npos) return false;
  if (q != std::string_view::npos && !parse_query(t.substr(q + 1), r.query)) return false;
  r.raw_path = std::string(p);
  r.path = std::move(*decoded);
  return true;
}

RequestParser::RequestParser(Limits limits) : limits_(limits) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = &RequestParser::cb_message_begin;
  settings_.on_url = &RequestParser::cb_url;
  settings_.on_header_field = &RequestParser::cb_header_field;
  settings_.on_header_value = &RequestParser::cb_header_value;
  settings_.on_headers_complete = &RequestParser::cb_headers_complete;
  settings_.on_body = &RequestParser::cb_body;
  settings_.on_message_complete = &RequestParser::cb_message_complete;
  llhttp_init(&parser_, HTTP_REQUEST, &settings_);
  parser_.data = this;
}

RequestParser::Result RequestParser::feed(const char* data, size_t len, size_t& consumed) {
  if (paused_) {
    llhttp_resume(&parser_);
    paused_ = false;
  }
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (err == HPE_OK) {
    consumed = len;
    return Result::need_more;
  }
  if (err == HPE_PAUSED) {
    const char* stop = llhttp_get_error_pos(&parser_);
    consumed = stop ? static_cast<size_t>(stop - data) : len;
    paused_ = true;
    return Result::message;
  }
  consumed = len;
  // llhttp refuses some codings itself ("chunked, chunked", chunked not last).
  if (err == HPE_INVALID_TRANSFER_ENCODING) unsupported_coding_ = true;
  if (unsupported_coding_) {
    // Go's words; the coding itself is not echoed back (reflected input).
    error_ = Error::unsupported_transfer_coding;
    error_status_ = 501;
    error_message_ = "Unsupported transfer encoding";
  } else if (too_large_headers_) {
    error_ = Error::header_too_large;
    error_status_ = 431;
    error_message_ = "Request header fields too large";
  } else if (too_large_body_) {
    error_ = Error::body_too_large;
    error_status_ = 413;
    error_message_ =
        "Request body too large, max size: " + std::to_string(limits_.max_body_bytes) + " bytes";
  } else {
    error_ = Error::malformed;
    error_status_ = 400;
    error_message_ = std::string("Bad Request: ") + llhttp_errno_name(err);
  }
  return Result::error;
}

bool RequestParser::take(Request& out) {
  out = std::move(req_);
  req_ = Request{};
  return parse_target(out);
}

int RequestParser::cb_message_begin(llhttp_t* p) {
  auto* s = self(p);
  s->header_bytes_ = 0;
  s->too_large_headers_ = s->too_large_body_ = s->unsupported_coding_ = false;
  s->last_was_value_ = false;
  s->req_ = Request{};
  if (s->on_message_begin) s->on_message_begin();
  return 0;
}

bool RequestParser::count_header(size_t n) {
  header_bytes_ += n;
  if (header_bytes_ > limits_.max_header_bytes) {
    too_large_headers_ = true;
    return false;
  }
  return true;
}

int RequestParser::cb_url(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  if (!s->count_header(len)) return -1;
  s->req_.target.append(at, len);
  return 0;
}

int RequestParser::cb_header_field(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  if (!s->count_header(len)) return -1;
  if (s->last_was_value_ || s->req_.headers.empty()) {
    s->req_.headers.emplace_back();
    s->last_was_value_ = false;
  }
  auto& name = s->req_.headers.back().first;
  for (size_t i = 0; i < len; ++i)
    name += static_cast<char>(std::tolower(static_cast<unsigned char>(at[i])));
  return 0;
}

int RequestParser::cb_header_value(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  if (!s->count_header(len)) return -1;
  if (s->req_.headers.empty()) s->req_.headers.emplace_back();
  s->last_was_value_ = true;
  s->req_.headers.back().second.append(at, len);
  return 0;
}

// Go's net/http accepts exactly one Transfer-Encoding field whose value is
// "chunked" and answers anything else 501; llhttp alone would de-chunk
// "gzip, chunked" and hand over a body that is still gzip.
bool RequestParser::transfer_coding_supported() const {
  int fields = 0;
  bool chunked = false;
  for (const auto& [name, value] : req_.headers) {
    if (name != "transfer-encoding") continue;
    ++fields;
    size_t b = value.find_first_not_of(" \t");
    size_t e = value.find_last_not_of(" \t");
    chunked = b != std::string::npos && e - b + 1 == 7 &&
              strncasecmp(value.data() + b, "chunked", 7) == 0;
  }
  return fields == 0 || (fields == 1 && chunked);
}

int RequestParser::cb_headers_complete(llhttp_t* p) {
  auto* s = self(p);
  s->req_.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  if (!s->transfer_coding_supported()) {
    s->unsupported_coding_ = true;
    return -1;
  }
  if ((p->flags & F_CONTENT_LENGTH) && p->content_length > s->limits_.max_body_bytes) {
    s->too_large_body_ = true;
    return -1;
  }
  if (const std::string* e = s->req_.header("expect"))
    if (strcasecmp(e->c_str(), "100-continue") == 0 && s->on_expect_continue)
      s->on_expect_continue();
  return 0;
}

int RequestParser::cb_body(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  if (s->req_.body.size() + len > s->limits_.max_body_bytes) {
    s->too_large_body_ = true;
    return -1;
  }
  s->req_.body.append(at, len);
  return 0;
}

int RequestParser::cb_message_complete(llhttp_t* p) {
  self(p)->keep_alive_ = llhttp_should_keep_alive(p) != 0;
  return HPE_PAUSED;
}

}  // namespace cairn::http
