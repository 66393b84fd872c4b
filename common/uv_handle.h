// RAII for libuv handles.
//
// libuv frees nothing itself and a handle's memory must stay valid until its
// close callback runs, so an owner cannot simply destroy it. UvHandle<T> heap
// allocates the handle and, on destruction, closes it and frees it from the
// close callback. Owners receive the loop; they never create one.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <utility>

namespace cairn {

template <class T>
class UvHandle {
 public:
  UvHandle() : handle_(new T{}) {}
  ~UvHandle() { reset(); }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;
  UvHandle(UvHandle&& o) noexcept : handle_(std::exchange(o.handle_, nullptr)),
                                    initialized_(o.initialized_) {}

  T* get() const { return handle_; }
  uv_handle_t* base() const { return reinterpret_cast<uv_handle_t*>(handle_); }
  // Call after a successful uv_*_init so the destructor knows to uv_close.
  void mark_initialized() { initialized_ = true; }
  bool initialized() const { return initialized_; }

  void reset() {
    if (handle_ == nullptr) return;
    if (initialized_ && !uv_is_closing(base())) {
      handle_->data = nullptr;
      uv_close(base(), [](uv_handle_t* h) { delete reinterpret_cast<T*>(h); });
    } else if (!initialized_) {
      delete handle_;
    }
    handle_ = nullptr;
    initialized_ = false;
  }

 private:
  T* handle_;
  bool initialized_ = false;
};

// A one-shot or repeating timer whose callback is a std::function.
class Timer {
 public:
  explicit Timer(uv_loop_t* loop);
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void start(uint64_t timeout_ms, uint64_t repeat_ms, std::function<void()> cb);
  void stop();
  bool active() const;
  // Does not keep the loop alive on its own (background duties).
  void unref();

 private:
  UvHandle<uv_timer_t> handle_;
  std::function<void()> cb_;
};

// Watches one signal for the life of the object.
class SignalWatch {
 public:
  SignalWatch(uv_loop_t* loop, int signum, std::function<void()> cb);
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

 private:
  UvHandle<uv_signal_t> handle_;
  std::function<void()> cb_;
};

// Milliseconds from the loop's cached clock.
inline uint64_t loop_now_ms(uv_loop_t* loop) { return uv_now(loop); }

}  // namespace cairn
