#include "agent/checks/check_target.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

#include "common/net/address.h"

namespace cairn::checks {

std::optional<HostPort> split_host_port(std::string_view text, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<HostPort> {
    if (error) *error = "address " + std::string(text) + ": " + why;
    return std::nullopt;
  };
  HostPort hp;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return fail("missing ']' in address");
    hp.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return fail("missing port in address");
    port = rest.substr(1);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("missing port in address");
    if (text.find(':') != colon) return fail("too many colons in address");
    hp.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
      value > 65535)
    return fail("invalid port");
  hp.port = static_cast<uint16_t>(value);
  return hp;
}

namespace {

// The shared IP-literal parser (common/net), kept in the check's 28-byte union.
bool parse_ip(const std::string& host, uint16_t port, SocketAddress& out) {
  out = SocketAddress{};
  auto e = net::endpoint_of(host, port);
  if (!e) return false;
  std::memcpy(&out, &e->addr, e->len());
  return true;
}

}  // namespace

bool is_ip_literal(const std::string& host) {
  SocketAddress addr;
  return parse_ip(host, 0, addr);
}

bool literal_addresses(const std::string& host, uint16_t port, AddressList& out) {
  out.clear();
  SocketAddress addr;
  if (parse_ip(host, port, addr)) {
    out.push_back(addr);
    return true;
  }
  if (host == "localhost") {
    parse_ip("127.0.0.1", port, addr);
    out.push_back(addr);
    parse_ip("::1", port, addr);
    out.push_back(addr);
    return true;
  }
  return false;
}

struct HostResolver::Lookup {
  uv_getaddrinfo_t req;
  HostResolver* owner;
  AddressList* out;
  uint16_t port;
  std::string host;
  Done done;
};

void HostResolver::resolve(const std::string& host, uint16_t port, AddressList* out, Done done) {
  cancel();
  if (literal_addresses(host, port, *out)) {
    done("");
    return;
  }
  auto* l = new Lookup{{}, this, out, port, host, std::move(done)};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  l->req.data = l;
  int rc = uv_getaddrinfo(loop_, &l->req, on_resolved, l->host.c_str(), nullptr, &hints);
  if (rc != 0) {
    Done d = std::move(l->done);
    delete l;
    d("lookup " + host + ": " + uv_strerror(rc));
    return;
  }
  pending_ = l;
}

void HostResolver::cancel() {
  if (!pending_) return;
  // The request memory belongs to libuv until its callback runs, even when
  // uv_cancel succeeds (the callback then gets UV_ECANCELED): orphan it.
  pending_->owner = nullptr;
  uv_cancel(reinterpret_cast<uv_req_t*>(&pending_->req));
  pending_ = nullptr;
}

void HostResolver::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  auto* l = static_cast<Lookup*>(req->data);
  HostResolver* owner = l->owner;
  if (!owner) {
    if (res) uv_freeaddrinfo(res);
    delete l;
    return;
  }
  owner->pending_ = nullptr;
  std::string error;
  l->out->clear();
  if (status == 0) {
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
      if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
      SocketAddress addr{};
      if (ai->ai_family == AF_INET) {
        std::memcpy(&addr.v4, ai->ai_addr, sizeof addr.v4);
        addr.v4.sin_port = htons(l->port);
      } else {
        std::memcpy(&addr.v6, ai->ai_addr, sizeof addr.v6);
        addr.v6.sin6_port = htons(l->port);
      }
      l->out->push_back(addr);
    }
    if (l->out->empty()) error = "lookup " + l->host + ": no such host";
  } else if (status == UV_EAI_NONAME || status == UV_EAI_NODATA) {
    error = "lookup " + l->host + ": no such host";
  } else {
    error = "lookup " + l->host + ": " + uv_strerror(status);
  }
  if (res) uv_freeaddrinfo(res);
  Done done = std::move(l->done);
  delete l;
  done(error);
}

}  // namespace cairn::checks
