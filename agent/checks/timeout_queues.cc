#include "agent/checks/timeout_queues.h"

namespace cairn::checks {

void TimeoutQueues::arm(Entry& e, uint64_t timeout_ms) {
  cancel(e);
  auto& slot = queues_[timeout_ms];
  if (!slot) slot = std::make_unique<Queue>(loop_);
  Queue& q = *slot;
  e.deadline_ms_ = uv_now(loop_) + timeout_ms;
  e.queue_ = &q;
  e.prev_ = q.tail;
  e.next_ = nullptr;
  if (q.tail)
    q.tail->next_ = &e;
  else
    q.head = &e;
  q.tail = &e;
  // Deadlines only grow along the list: a running timer is early at worst.
  if (!q.timer.active()) schedule(q);
}

void TimeoutQueues::cancel(Entry& e) {
  auto* q = static_cast<Queue*>(e.queue_);
  if (!q) return;
  if (e.prev_)
    e.prev_->next_ = e.next_;
  else
    q->head = e.next_;
  if (e.next_)
    e.next_->prev_ = e.prev_;
  else
    q->tail = e.prev_;
  e.prev_ = e.next_ = nullptr;
  e.queue_ = nullptr;
  // The timer stays as it is: firing early costs one look at the new head.
}

void TimeoutQueues::schedule(Queue& q) {
  if (!q.head) return;
  uint64_t now = uv_now(loop_);
  uint64_t due = q.head->deadline_ms_ > now ? q.head->deadline_ms_ - now : 0;
  q.timer.start(due, 0, [this, &q] { expire(q); });
  // Timeouts matter only while runs are in flight, and those are kept
  // alive by their checks: this timer must not hold the loop open at exit.
  q.timer.unref();
}

void TimeoutQueues::expire(Queue& q) {
  uint64_t now = uv_now(loop_);
  while (q.head && q.head->deadline_ms_ <= now) {
    Entry* e = q.head;
    cancel(*e);
    e->on_timeout();  // may arm or cancel entries of this queue
  }
  if (!q.timer.active()) schedule(q);
}

}  // namespace cairn::checks
