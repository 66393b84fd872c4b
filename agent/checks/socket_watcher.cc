#include "agent/checks/socket_watcher.h"

#include <unistd.h>

#include <cerrno>

#include "common/log.h"

namespace cairn::checks {

SocketWatcher::SocketWatcher(uv_loop_t* loop) {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) {
    log::error("checks", "epoll_create1 failed: network checks cannot run");
    return;
  }
  if (uv_poll_init(loop, poll_.get(), epfd_) != 0) {
    log::error("checks", "cannot watch the check sockets' epoll set");
    return;
  }
  poll_.mark_initialized();
  poll_.get()->data = this;
  uv_poll_start(poll_.get(), UV_READABLE, on_ready);
  // The loop's life depends on the checks' timers, not on this watcher.
  uv_unref(poll_.base());
}

SocketWatcher::~SocketWatcher() {
  poll_.reset();  // uv_close first: libuv must stop polling the fd before it closes
  if (epfd_ >= 0) ::close(epfd_);
}

uint64_t SocketWatcher::add(int fd, Client* client) {
  if (epfd_ < 0) {
    errno = EBADF;
    return 0;
  }
  uint64_t token = next_token_++;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = token;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) return 0;
  clients_.emplace(token, client);
  return token;
}

void SocketWatcher::on_ready(uv_poll_t* handle, int /*status*/, int /*events*/) {
  auto* self = static_cast<SocketWatcher*>(handle->data);
  if (self) self->dispatch();
}

void SocketWatcher::dispatch() {
  epoll_event events[64];
  for (;;) {
    int n = epoll_wait(epfd_, events, 64, 0);
    if (n < 0 && errno == EINTR) continue;
    for (int i = 0; i < n; ++i) {
      // Looked up per event: a handler may have closed any other socket.
      // Copied out: epoll_event is packed on x86-64, so its u64 may be misaligned.
      const uint64_t token = events[i].data.u64;
      const uint32_t what = events[i].events;
      auto it = clients_.find(token);
      if (it != clients_.end()) it->second->on_socket_event(what);
    }
    if (n < 64) return;
  }
}

}  // namespace cairn::checks
