#include "common/http/blocking_client.h"

#include <llhttp.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace cairn::http {

const std::string* ClientResponse::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return &v;
  return nullptr;
}

namespace {

struct ParseState {
  ClientResponse* resp;
  const ClientRequest* req;
  bool last_was_value = false;
  bool complete = false;
  bool stopped = false;  // the body reader wanted no more
};

int connect_to(const std::string& address_in, std::string& host_header, std::string& error) {
  std::string address = address_in;
  if (address.rfind("http://", 0) == 0) address = address.substr(7);
  while (!address.empty() && address.back() == '/') address.pop_back();
  if (address.rfind("unix://", 0) == 0) {
    std::string path = address.substr(7);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      error = "connect " + path + ": " + std::strerror(errno);
      close(fd);
      return -1;
    }
    host_header = "localhost";
    return fd;
  }
  std::string host, port = "8500";
  if (!address.empty() && address[0] == '[') {
    auto end = address.find(']');
    host = address.substr(1, end - 1);
    if (end + 1 < address.size() && address[end + 1] == ':') port = address.substr(end + 2);
  } else {
    auto colon = address.rfind(':');
    host = address.substr(0, colon);
    if (colon != std::string::npos) port = address.substr(colon + 1);
  }
  host_header = address;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    error = "resolve " + host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    error = "dial tcp " + address + ": connect: " + std::strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

}  // namespace

bool http_request(const std::string& address, const ClientRequest& req, ClientResponse& resp,
                  std::string& error) {
  std::string host;
  int fd = connect_to(address, host, error);
  if (fd < 0) return false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(req.timeout_ms);
  auto remaining_ms = [&] {
    if (req.timeout_ms <= 0) return -1;  // poll without a deadline
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<int64_t>(0, left.count()));
  };

  std::string out = req.method + " " + req.target + " HTTP/1.1\r\nHost: " + host +
                    "\r\nUser-Agent: cairn\r\nConnection: close\r\n";
  for (const auto& [k, v] : req.headers) out += k + ": " + v + "\r\n";
  if (!req.body.empty() || req.method == "PUT" || req.method == "POST")
    out += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
  out += "\r\n";
  out += req.body;
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      error = std::string("write: ") + std::strerror(errno);
      close(fd);
      return false;
    }
    off += static_cast<size_t>(n);
  }

  resp = ClientResponse{};
  ParseState st{&resp, &req};
  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  settings.on_header_field = [](llhttp_t* p, const char* at, size_t len) {
    auto* s = static_cast<ParseState*>(p->data);
    if (s->last_was_value || s->resp->headers.empty()) {
      s->resp->headers.emplace_back();
      s->last_was_value = false;
    }
    for (size_t i = 0; i < len; ++i)
      s->resp->headers.back().first += static_cast<char>(std::tolower(at[i]));
    return 0;
  };
  settings.on_header_value = [](llhttp_t* p, const char* at, size_t len) {
    auto* s = static_cast<ParseState*>(p->data);
    s->last_was_value = true;
    s->resp->headers.back().second.append(at, len);
    return 0;
  };
  settings.on_body = [](llhttp_t* p, const char* at, size_t len) {
    auto* s = static_cast<ParseState*>(p->data);
    if (s->req->on_body && p->status_code == 200) {
      if (!s->stopped && !s->req->on_body(std::string_view(at, len))) s->stopped = true;
      return 0;
    }
    s->resp->body.append(at, len);
    return 0;
  };
  settings.on_message_complete = [](llhttp_t* p) {
    static_cast<ParseState*>(p->data)->complete = true;
    return 0;
  };
  llhttp_t parser;
  llhttp_init(&parser, HTTP_RESPONSE, &settings);
  parser.data = &st;
  char buf[16384];
  while (!st.complete && !st.stopped) {
    pollfd pfd{fd, POLLIN, 0};
    int pr = poll(&pfd, 1, remaining_ms());
    if (pr == 0) {
      error = "timeout waiting for the response";
      close(fd);
      return false;
    }
    if (pr < 0 && errno == EINTR) continue;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0 && llhttp_finish(&parser) == HPE_OK && st.complete) break;
      error = n == 0 ? "connection closed before the response completed"
                     : std::string("read: ") + std::strerror(errno);
      close(fd);
      return false;
    }
    if (llhttp_execute(&parser, buf, static_cast<size_t>(n)) != HPE_OK && !st.complete) {
      error = std::string("malformed response: ") + llhttp_get_error_reason(&parser);
      close(fd);
      return false;
    }
  }
  resp.status = parser.status_code;
  close(fd);
  return true;
}

}  // namespace cairn::http
