// Run timeouts, grouped by duration. Runs with the same timeout expire in
// the order they started, so one FIFO list per duration, with one timer for
// its head, replaces a libuv timer start and stop per run (two operations on
// a heap of 10,000 timers, most of them cache misses). A run that ends just
// unlinks itself. (libev's manual calls this "be smart about timeouts".)
#pragma once

#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>

#include "common/uv_handle.h"

namespace cairn::checks {

class TimeoutQueues {
 public:
  // Embedded in whatever can time out.
  class Entry {
   public:
    virtual void on_timeout() = 0;
    bool armed() const { return queue_ != nullptr; }

   protected:
    ~Entry() = default;

   private:
    friend class TimeoutQueues;
    Entry* prev_ = nullptr;
    Entry* next_ = nullptr;
    void* queue_ = nullptr;
    uint64_t deadline_ms_ = 0;
  };

  explicit TimeoutQueues(uv_loop_t* loop) : loop_(loop) {}
  TimeoutQueues(const TimeoutQueues&) = delete;
  TimeoutQueues& operator=(const TimeoutQueues&) = delete;

  // e.on_timeout() runs timeout_ms from now unless cancel(e) comes first.
  void arm(Entry& e, uint64_t timeout_ms);
  void cancel(Entry& e);

 private:
  struct Queue {
    explicit Queue(uv_loop_t* loop) : timer(loop) {}
    Timer timer;
    Entry* head = nullptr;
    Entry* tail = nullptr;
  };

  void expire(Queue& q);
  void schedule(Queue& q);

  uv_loop_t* loop_;
  std::map<uint64_t, std::unique_ptr<Queue>> queues_;  // by duration
};

}  // namespace cairn::checks
