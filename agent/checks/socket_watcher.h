// Readiness for every check socket through one private epoll set, which the
// loop watches with a single uv_poll_t.
//
// Why not a uv_poll_t per socket: a check opens a new socket every run, and
// uv_poll_init costs three system calls before any work (it probes the fd
// with epoll_ctl ADD and DEL and sets O_NONBLOCK again), then libuv adds,
// modifies and deletes it in the loop's own set. Here a socket costs one
// epoll_ctl: it is added edge-triggered for both directions, so interest
// never changes, and closing it drops it from the set. At 2,000 check runs a
// second that halves the agent's system calls.
//
// Events carry a token, not a pointer: a socket closed while its event is in
// the batch being dispatched (or kept alive by a fork in progress) is simply
// not found.
#pragma once

#include <sys/epoll.h>
#include <uv.h>

#include <cstdint>
#include <unordered_map>

#include "common/uv_handle.h"

namespace cairn::checks {

class SocketWatcher {
 public:
  class Client {
   public:
    // EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP bits. Edge-triggered: read and
    // write until they would block.
    virtual void on_socket_event(uint32_t events) = 0;

   protected:
    ~Client() = default;
  };

  explicit SocketWatcher(uv_loop_t* loop);
  ~SocketWatcher();
  SocketWatcher(const SocketWatcher&) = delete;
  SocketWatcher& operator=(const SocketWatcher&) = delete;

  // Watches fd for client; returns a token, or 0 with errno set.
  uint64_t add(int fd, Client* client);
  // Stops delivering events for token; call before closing its fd.
  void remove(uint64_t token) { clients_.erase(token); }
  size_t watched() const { return clients_.size(); }

 private:
  static void on_ready(uv_poll_t* handle, int status, int events);
  void dispatch();

  int epfd_ = -1;
  UvHandle<uv_poll_t> poll_;
  uint64_t next_token_ = 1;
  std::unordered_map<uint64_t, Client*> clients_;
};

}  // namespace cairn::checks
