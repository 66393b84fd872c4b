// Arbitrary bytes from a "server" into a client Connection with a unary
// call, a large upload, a stream and a paused stream open: HTTP/2 framing,
// status and trailer parsing, answer and message bounds, the stream
// message decoder, and the unavailable / unknown_outcome decision when the
// connection ends. The first byte picks the chunking.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "agent/rpc/connection.h"
#include "agent/rpc/memory_transport.h"
#include "common/log.h"
#include "common/uv_handle.h"

namespace {

using namespace cairn::rpc;

// Hands the session a transport the fuzzer keeps a share of, so the
// fuzzer can go on feeding it after the session is gone (it is closed then).
class SharedTransport final : public Transport {
 public:
  explicit SharedTransport(std::shared_ptr<MemoryTransport> t) : t_(std::move(t)) {}
  ~SharedTransport() override { t_->close(); }
  void start(Receiver& r) override { t_->start(r); }
  bool write(std::string bytes) override { return t_->write(std::move(bytes)); }
  size_t queued_bytes() const override { return t_->queued_bytes(); }
  void set_reading(bool on) override { t_->set_reading(on); }
  void close() override { t_->close(); }
  const std::string& peer() const override { return t_->peer(); }

 private:
  std::shared_ptr<MemoryTransport> t_;
};

// Dials "the server" on the next loop turn: a MemoryTransport the fuzzer feeds.
Dialer memory_dialer(std::shared_ptr<MemoryTransport>* out) {
  return [out](uv_loop_t* loop, DialCallback done) -> std::shared_ptr<void> {
    auto timer = std::make_shared<cairn::Timer>(loop);
    *out = std::make_shared<MemoryTransport>("server");
    auto transport =
        std::make_shared<std::unique_ptr<Transport>>(std::make_unique<SharedTransport>(*out));
    timer->start(0, 0, [done, transport] { done(std::move(*transport), Status()); });
    return timer;
  };
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static bool quiet = [] {
    cairn::log::set_level(cairn::log::Level::off);
    return true;
  }();
  (void)quiet;
  if (size < 1) return 0;
  size_t step = size_t{1} << (data[0] & 15);
  ++data;
  --size;

  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    std::shared_ptr<MemoryTransport> server;
    ConnectionSettings settings;
    settings.max_message_bytes = 64 * 1024;
    settings.max_header_bytes = 4 * 1024;
    settings.max_buffered_bytes = 128 * 1024;
    Connection conn(&loop, "fuzz", memory_dialer(&server), settings);
    size_t done = 0, messages = 0;
    auto count = [&](Status, std::string) { ++done; };
    conn.call("Echo", "x", 0, count);
    conn.call("Upload", std::string(100 * 1024, 'u'), 0, count, "token");
    Stream watch = conn.open_stream(
        "Watch", "w", [&](std::string_view) { ++messages; }, [&](Status) { ++done; });
    Stream paused = conn.open_stream(
        "Watch", "p", [&](std::string_view) { ++messages; }, [&](Status) { ++done; });
    paused.pause();
    uv_run(&loop, UV_RUN_NOWAIT);  // the dial completes
    if (server != nullptr) {
      for (size_t off = 0; off < size && !server->is_closed(); off += step) {
        size_t n = std::min(step, size - off);
        server->deliver(data + off, n);
        uv_run(&loop, UV_RUN_NOWAIT);
        server->take_written();
      }
      paused.resume();
      uv_run(&loop, UV_RUN_NOWAIT);
      server->deliver_eof();
    }
    conn.close();
  }
  for (int i = 0; i < 16 && uv_run(&loop, UV_RUN_NOWAIT) != 0; ++i) {
  }
  uv_loop_close(&loop);
  return 0;
}
