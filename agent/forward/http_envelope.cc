#include "agent/forward/http_envelope.h"

#include "common/http/request_parser.h"

namespace cairn::forward {

namespace {

void put_u16(std::string& out, size_t v) {
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

void put_str(std::string& out, std::string_view s) {
  auto n = static_cast<uint32_t>(s.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(s);
}

// Reads fields off the front of an envelope; the first failure sticks.
class FieldCursor {
 public:
  explicit FieldCursor(std::string_view in) : in_(in) {}

  bool u8(uint8_t& v) {
    if (!need(1)) return false;
    v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool u16(size_t& v) {
    if (!need(2)) return false;
    v = (size_t{static_cast<uint8_t>(in_[0])} << 8) | static_cast<uint8_t>(in_[1]);
    in_.remove_prefix(2);
    return true;
  }
  bool str(std::string& v) {
    if (!need(4)) return false;
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<uint8_t>(in_[static_cast<size_t>(i)]);
    in_.remove_prefix(4);
    if (!need(n)) return false;
    v.assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return ok_ && in_.empty(); }
  bool ok() const { return ok_; }

 private:
  bool need(size_t n) {
    if (ok_ && in_.size() >= n) return true;
    ok_ = false;
    return false;
  }
  std::string_view in_;
  bool ok_ = true;
};

EnvelopeStatus fail(EnvelopeStatus::Code code, std::string message) {
  return {code, std::move(message)};
}

EnvelopeStatus read_headers(FieldCursor& c, std::vector<std::pair<std::string, std::string>>& out) {
  size_t n = 0;
  if (!c.u16(n)) return fail(EnvelopeStatus::Code::truncated, "truncated header count");
  if (n > kMaxHeaders)
    return fail(EnvelopeStatus::Code::too_many_headers,
                std::to_string(n) + " headers (at most " + std::to_string(kMaxHeaders) + ")");
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto& [name, value] = out.emplace_back();
    if (!c.str(name) || !c.str(value))
      return fail(EnvelopeStatus::Code::truncated, "truncated header");
  }
  return {};
}

EnvelopeStatus read_version(FieldCursor& c) {
  uint8_t version = 0;
  if (!c.u8(version)) return fail(EnvelopeStatus::Code::truncated, "empty envelope");
  if (version != kEnvelopeVersion)
    return fail(EnvelopeStatus::Code::bad_version, "envelope version " + std::to_string(version) +
                                                       " (this agent reads " +
                                                       std::to_string(kEnvelopeVersion) + ")");
  return {};
}

}  // namespace

bool forwarded_request_header(std::string_view n) {
  return n != "connection" && n != "keep-alive" && n != "transfer-encoding" &&
         n != "content-length" && n != "host" && n != "te" && n != "upgrade" &&
         n != "proxy-connection" && n != kOriginNodeHeader;
}

void encode_request(const http::Request& r, std::string_view origin_node, std::string& out) {
  out.push_back(static_cast<char>(kEnvelopeVersion));
  put_str(out, r.method);
  put_str(out, r.target);
  put_str(out, origin_node);
  size_t n = 0;
  for (const auto& h : r.headers) n += forwarded_request_header(h.first) ? 1 : 0;
  n = std::min(n, kMaxHeaders);
  put_u16(out, n);
  size_t written = 0;
  for (const auto& [name, value] : r.headers) {
    if (written == n) break;
    if (!forwarded_request_header(name)) continue;
    put_str(out, name);
    put_str(out, value);
    ++written;
  }
  put_str(out, r.body);
}

EnvelopeStatus decode_request(std::string_view in, http::Request& r, std::string& origin_node) {
  FieldCursor c(in);
  if (auto st = read_version(c); !st.ok()) return st;
  if (!c.str(r.method) || !c.str(r.target) || !c.str(origin_node))
    return fail(EnvelopeStatus::Code::truncated, "truncated request line");
  if (auto st = read_headers(c, r.headers); !st.ok()) return st;
  if (!c.str(r.body)) return fail(EnvelopeStatus::Code::truncated, "truncated body");
  if (!c.done()) return fail(EnvelopeStatus::Code::bad_field, "bytes after the body");
  if (r.method.empty() || r.method.size() > 16)
    return fail(EnvelopeStatus::Code::bad_field, "bad method");
  for (auto& [name, value] : r.headers)
    for (char& ch : name)
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  if (r.target.empty() || r.target[0] != '/' || !http::parse_target(r))
    return fail(EnvelopeStatus::Code::bad_field, "bad target");
  return {};
}

void encode_response(const http::Response& r, std::string& out) {
  out.push_back(static_cast<char>(kEnvelopeVersion));
  put_u16(out, static_cast<size_t>(r.status));
  size_t n = std::min(r.headers.size(), kMaxHeaders);
  put_u16(out, n);
  for (size_t i = 0; i < n; ++i) {
    put_str(out, r.headers[i].first);
    put_str(out, r.headers[i].second);
  }
  put_str(out, r.body_view());
}

EnvelopeStatus decode_response(std::string_view in, http::Response& r) {
  FieldCursor c(in);
  if (auto st = read_version(c); !st.ok()) return st;
  size_t status = 0;
  if (!c.u16(status)) return fail(EnvelopeStatus::Code::truncated, "truncated status");
  if (status < 100 || status > 599) return fail(EnvelopeStatus::Code::bad_field, "bad status");
  r.status = static_cast<int>(status);
  if (auto st = read_headers(c, r.headers); !st.ok()) return st;
  if (!c.str(r.body)) return fail(EnvelopeStatus::Code::truncated, "truncated body");
  if (!c.done()) return fail(EnvelopeStatus::Code::bad_field, "bytes after the body");
  return {};
}

}  // namespace cairn::forward
