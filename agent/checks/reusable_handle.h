// A libuv handle that a check re-creates every run (a poll handle for each
// new socket, a process handle for each script run) without allocating each
// time: the memory is kept and reused once libuv has finished closing it.
// If the owner goes away while libuv still holds the handle, the close
// callback frees it instead (libuv needs the memory until then).
#pragma once

#include <uv.h>

#include <type_traits>

namespace cairn::checks {

template <class T>
class ReusableHandle {
 public:
  ReusableHandle() = default;
  ~ReusableHandle() { release(); }
  ReusableHandle(const ReusableHandle&) = delete;
  ReusableHandle& operator=(const ReusableHandle&) = delete;

  // Memory for a uv_*_init: the kept block when libuv is done with it, else a new one.
  T* prepare() {
    if (block_ && (block_->closing || open_)) {
      close();
      block_->orphan = true;  // still closing: let the close callback free it
      block_ = nullptr;
    }
    if (!block_) block_ = new Block;
    return &block_->handle;
  }
  // After a successful uv_*_init.
  void mark_open() { open_ = true; }
  bool is_open() const { return open_; }
  T* get() const { return block_ ? &block_->handle : nullptr; }

  // uv_close; the memory is reusable once the callback ran.
  void close() {
    if (!open_) return;
    open_ = false;
    block_->closing = true;
    block_->handle.data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&block_->handle), on_closed);
  }

 private:
  struct Block {
    T handle{};  // first member: the close callback finds the block from the handle
    bool closing = false;
    bool orphan = false;
  };
  static_assert(std::is_standard_layout_v<Block>);

  static void on_closed(uv_handle_t* h) {
    Block* b = reinterpret_cast<Block*>(h);
    b->closing = false;
    if (b->orphan) delete b;
  }

  void release() {
    close();
    if (!block_) return;
    if (block_->closing)
      block_->orphan = true;
    else
      delete block_;
    block_ = nullptr;
  }

  Block* block_ = nullptr;
  bool open_ = false;
};

}  // namespace cairn::checks
