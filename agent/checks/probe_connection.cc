#include "agent/checks/probe_connection.h"

#include <netinet/in.h>
#include <openssl/err.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "agent/checks/go_text.h"

namespace cairn::checks {

void ProbeConnection::open(const AddressList& addrs, int socktype, const TlsTarget* tls) {
  close();
  addrs_ = &addrs;
  next_ = 0;
  socktype_ = socktype;
  tls_ = tls;
  first_error_ = 0;
  first_error_index_ = 0;
  error_.clear();
  attempt();
}

void ProbeConnection::attempt() {
  while (next_ < addrs_->size()) {
    const SocketAddress& a = (*addrs_)[next_];
    fd_ = ::socket(a.family(), socktype_ | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int err = 0;
    if (fd_ < 0) {
      err = errno;
    } else if (::connect(fd_, &a.sa, a.size()) == 0) {
      established();  // UDP, and sometimes TCP on loopback: nothing to wait for
      return;
    } else if (errno == EINPROGRESS) {
      phase_ = Phase::connecting;
      if (ensure_watched()) return;  // writable (or an error) = the connect finished
      err = errno;
    } else {
      err = errno;
    }
    next_address(err);
    return;
  }
  phase_ = Phase::idle;
  if (addrs_->empty()) {
    error_ = std::string("dial ") + network() + ": no addresses";
  } else {
    error_ = std::string("dial ") + network() + " " + address_text((*addrs_)[first_error_index_]) +
             ": connect: " + errno_text(first_error_);
  }
  owner_.on_connect_failed(error_);
}

void ProbeConnection::next_address(int err) {
  if (!first_error_) {
    first_error_ = err;
    first_error_index_ = next_;
  }
  close_socket();
  ++next_;
  attempt();
}

bool ProbeConnection::ensure_watched() {
  if (token_) return true;
  token_ = watcher_.add(fd_, this);
  return token_ != 0;
}

void ProbeConnection::established() {
  if (!tls_) {
    phase_ = Phase::open;
    owner_.on_connected();
    return;
  }
  ssl_ = tls_new_session(*tls_, fd_);
  if (!ssl_) {
    error_ = "tls: cannot create a TLS session";
    close();
    owner_.on_connect_failed(error_);
    return;
  }
  phase_ = Phase::handshaking;
  handshake();
}

void ProbeConnection::handshake() {
  ERR_clear_error();
  int r = SSL_connect(ssl_);
  if (r == 1) {
    phase_ = Phase::open;
    owner_.on_connected();
    return;
  }
  int e = SSL_get_error(ssl_, r);
  if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && ensure_watched()) return;
  int saved = errno;
  error_ = tls_handshake_error(ssl_, e, saved, tls_->server_name);
  close();
  owner_.on_connect_failed(error_);
}

void ProbeConnection::on_socket_event(uint32_t events) {
  switch (phase_) {
    case Phase::connecting: {
      int err = 0;
      if (events & (EPOLLERR | EPOLLHUP)) {
        // Only a failure needs asking why; a success costs no extra call.
        socklen_t len = sizeof err;
        if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        if (err == 0) err = ECONNREFUSED;
      } else if (!(events & EPOLLOUT)) {
        return;  // not finished yet
      }
      if (err) {
        next_address(err);
        return;
      }
      established();
      return;
    }
    case Phase::handshaking:
      handshake();
      return;
    case Phase::open:
      owner_.on_ready();
      return;
    case Phase::idle:
      return;
  }
}

namespace {

std::string local_text(int fd) {
  SocketAddress local{};
  socklen_t len = sizeof local;
  if (getsockname(fd, &local.sa, &len) != 0) return "?";
  return address_text(local);
}

}  // namespace

ssize_t ProbeConnection::read(char* buf, size_t len) {
  if (phase_ != Phase::open) return kFailed;
  if (!ssl_) {
    for (;;) {
      ssize_t n = socktype_ == SOCK_DGRAM ? ::recv(fd_, buf, len, 0) : ::read(fd_, buf, len);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return kWouldBlock;
      int err = errno;
      error_ = std::string("read ") + network() + " " + local_text(fd_) + "->" + peer_text() +
               ": read: " + errno_text(err);
      return kFailed;
    }
  }
  ERR_clear_error();
  int n = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(len, INT_MAX)));
  if (n > 0) return n;
  int e = SSL_get_error(ssl_, n);
  // Watched edge-triggered in both directions: either way, an event will come.
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return kWouldBlock;
  if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0)) return 0;
  int err = errno;
  unsigned long code = ERR_peek_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  error_ = e == SSL_ERROR_SYSCALL ? "read: " + errno_text(err)
                                  : std::string("tls: ") + (reason ? reason : "read failed");
  ERR_clear_error();
  return kFailed;
}

ssize_t ProbeConnection::write(const char* buf, size_t len) {
  if (phase_ != Phase::open) return kFailed;
  if (len == 0 && socktype_ == SOCK_STREAM) return 0;
  if (!ssl_) {
    for (;;) {
      ssize_t n = ::send(fd_, buf, len, MSG_NOSIGNAL);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        ensure_watched();
        return kWouldBlock;
      }
      int err = errno;
      error_ = std::string("write ") + network() + " " + local_text(fd_) + "->" + peer_text() +
               ": write: " + errno_text(err);
      return kFailed;
    }
  }
  ERR_clear_error();
  int n = SSL_write(ssl_, buf, static_cast<int>(std::min<size_t>(len, INT_MAX)));
  if (n > 0) return n;
  int e = SSL_get_error(ssl_, n);
  if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
    ensure_watched();
    return kWouldBlock;
  }
  int err = errno;
  error_ = e == SSL_ERROR_SYSCALL ? "write: " + errno_text(err) : "tls: write failed";
  ERR_clear_error();
  return kFailed;
}

void ProbeConnection::watch() {
  if (phase_ != Phase::open || ensure_watched()) return;
  // Without readiness events this run could only time out; keep the reason.
  error_ = "epoll_ctl: " + errno_text(errno);
}

void ProbeConnection::close_socket() {
  if (ssl_) {
    SSL_free(ssl_);  // no close_notify: the socket goes away with it
    ssl_ = nullptr;
  }
  if (token_) {
    watcher_.remove(token_);  // closing the fd drops it from the epoll set
    token_ = 0;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void ProbeConnection::close() {
  close_socket();
  phase_ = Phase::idle;
}

std::string ProbeConnection::peer_text() const {
  if (!addrs_ || addrs_->empty()) return "";
  size_t i = next_ < addrs_->size() ? next_ : addrs_->size() - 1;
  return address_text((*addrs_)[i]);
}

}  // namespace cairn::checks
