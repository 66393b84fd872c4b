#include "common/uv_handle.h"

namespace cairn {

Timer::Timer(uv_loop_t* loop) {
  uv_timer_init(loop, handle_.get());
  handle_.mark_initialized();
}

void Timer::start(uint64_t timeout_ms, uint64_t repeat_ms, std::function<void()> cb) {
  cb_ = std::move(cb);
  handle_.get()->data = this;
  uv_timer_start(
      handle_.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<Timer*>(t->data);
        if (!self || !self->cb_) return;
        if (uv_timer_get_repeat(t) == 0) {
          // One-shot: the callback may destroy this timer's owner, so it must
          // not run from inside the member it would destroy.
          std::function<void()> cb = std::move(self->cb_);
          self->cb_ = nullptr;
          cb();
        } else {
          self->cb_();
        }
      },
      timeout_ms, repeat_ms);
}

void Timer::stop() { uv_timer_stop(handle_.get()); }

bool Timer::active() const { return uv_is_active(handle_.base()) != 0; }

void Timer::unref() { uv_unref(handle_.base()); }

SignalWatch::SignalWatch(uv_loop_t* loop, int signum, std::function<void()> cb)
    : cb_(std::move(cb)) {
  uv_signal_init(loop, handle_.get());
  handle_.mark_initialized();
  handle_.get()->data = this;
  uv_signal_start(
      handle_.get(),
      [](uv_signal_t* s, int) {
        auto* self = static_cast<SignalWatch*>(s->data);
        if (self && self->cb_) self->cb_();
      },
      signum);
}

}  // namespace cairn
