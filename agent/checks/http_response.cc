#include "agent/checks/http_response.h"

#include <algorithm>
#include <cctype>

#include "agent/checks/go_text.h"

namespace cairn::checks {

namespace {

HttpResponseParser* self(llhttp_t* p) {
  return static_cast<HttpResponseParser*>(p->data);
}
constexpr std::string_view kLocation = "location";

}  // namespace

const llhttp_settings_t& HttpResponseParser::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t v;
    llhttp_settings_init(&v);
    v.on_status = on_status;
    v.on_header_field = on_header_field;
    v.on_header_field_complete = on_header_field_complete;
    v.on_header_value = on_header_value;
    v.on_header_value_complete = on_header_value_complete;
    v.on_headers_complete = on_headers_complete;
    v.on_body = on_body;
    v.on_message_complete = on_message_complete;
    return v;
  }();
  return s;
}

HttpResponseParser::HttpResponseParser() {
  reset(0, false);
}

void HttpResponseParser::reset(size_t body_cap, bool head_request) {
  llhttp_init(&parser_, HTTP_RESPONSE, &settings());
  parser_.data = this;
  state_ = State::incomplete;
  body_cap_ = body_cap;
  head_ = head_request;
  headers_complete_ = false;
  saw_bytes_ = false;
  status_code_ = 0;
  reason_.clear();
  status_text_.clear();
  location_.clear();
  body_.clear();
  in_field_ = false;
  field_len_ = 0;
  field_is_location_ = false;
  value_is_location_ = false;
  location_seen_ = false;
  first_bytes_.clear();
  error_.clear();
}

int HttpResponseParser::on_status(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  size_t room = kMaxReason - std::min(kMaxReason, s->reason_.size());
  s->reason_.append(at, std::min(len, room));
  return 0;
}

int HttpResponseParser::on_header_field(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  if (!s->in_field_) {  // a new header name starts (it may arrive in pieces)
    s->in_field_ = true;
    s->field_len_ = 0;
    s->field_is_location_ = true;
  }
  for (size_t i = 0; i < len && s->field_is_location_; ++i) {
    size_t k = s->field_len_ + i;
    s->field_is_location_ =
        k < kLocation.size() && std::tolower(static_cast<unsigned char>(at[i])) == kLocation[k];
  }
  s->field_len_ += len;
  return 0;
}

int HttpResponseParser::on_header_field_complete(llhttp_t* p) {
  auto* s = self(p);
  s->in_field_ = false;
  // Go reads the first Location header.
  s->value_is_location_ =
      s->field_is_location_ && s->field_len_ == kLocation.size() && !s->location_seen_;
  return 0;
}

int HttpResponseParser::on_header_value(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  if (s->value_is_location_) {
    size_t room = kMaxLocation - std::min(kMaxLocation, s->location_.size());
    s->location_.append(at, std::min(len, room));
  }
  return 0;
}

int HttpResponseParser::on_header_value_complete(llhttp_t* p) {
  auto* s = self(p);
  if (s->value_is_location_) s->location_seen_ = true;
  s->value_is_location_ = false;
  return 0;
}

int HttpResponseParser::on_headers_complete(llhttp_t* p) {
  auto* s = self(p);
  int code = llhttp_get_status_code(p);
  if (code >= 100 && code < 200 && code != 101) {
    // Interim response (100 Continue, 103 Early Hints): the real one follows.
    s->reason_.clear();
    s->location_.clear();
    s->location_seen_ = false;
    return 0;
  }
  s->status_code_ = code;
  s->status_text_ = std::to_string(code);
  if (!s->reason_.empty()) s->status_text_.append(" ").append(s->reason_);
  s->headers_complete_ = true;
  return s->head_ ? 1 : 0;  // 1: no body follows
}

int HttpResponseParser::on_body(llhttp_t* p, const char* at, size_t len) {
  auto* s = self(p);
  size_t room = s->body_cap_ - std::min(s->body_cap_, s->body_.size());
  s->body_.append(at, std::min(len, room));
  if (len > room) {
    // The cap is reached: what the check reports is known, stop reading.
    s->state_ = State::complete;
    return HPE_PAUSED;
  }
  return 0;
}

int HttpResponseParser::on_message_complete(llhttp_t* p) {
  auto* s = self(p);
  if (!s->headers_complete_) return 0;  // the end of an interim response
  s->state_ = State::complete;
  return HPE_PAUSED;  // anything after the response is not ours to read
}

void HttpResponseParser::fail(std::string_view what) {
  state_ = State::error;
  error_ = std::string(what);
}

HttpResponseParser::State HttpResponseParser::feed(const char* data, size_t len) {
  if (state_ != State::incomplete || len == 0) return state_;
  saw_bytes_ = true;
  if (first_bytes_.size() < 64) first_bytes_.append(data, std::min(len, 64 - first_bytes_.size()));
  llhttp_errno_t err = llhttp_execute(&parser_, data, len);
  if (state_ == State::complete) return state_;
  if (err != HPE_OK && err != HPE_PAUSED) {
    std::string line = first_bytes_.substr(0, first_bytes_.find("\r\n"));
    fail("net/http: HTTP/1.x transport connection broken: malformed HTTP response " +
         go_quote(line));
  }
  return state_;
}

HttpResponseParser::State HttpResponseParser::finish_eof() {
  if (state_ != State::incomplete) return state_;
  if (headers_complete_) {
    // A body delimited by the end of the connection is complete now; a
    // body cut short is still reported (Consul ignores body read errors).
    llhttp_finish(&parser_);
    state_ = State::complete;
    return state_;
  }
  fail(saw_bytes_ ? "unexpected EOF" : "EOF");
  return state_;
}

}  // namespace cairn::checks
