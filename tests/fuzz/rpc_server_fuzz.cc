// Arbitrary bytes from a client into a server-side RPC session, through
// the transport seam (no socket): HTTP/2 framing (nghttp2), our header
// checks and bounds, dispatch, early answers, resets, stream writers,
// parked answers given late, and a graceful shutdown. Limits are small so
// the bounds are reached. The first byte picks whether the connection
// preface is supplied and how the input is chunked.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/rpc/memory_transport.h"
#include "agent/rpc/server_session.h"
#include "common/log.h"

namespace {

using namespace cairn::rpc;

struct ServerHandlers {
  Router router;
  std::vector<Responder> parked;
  std::vector<StreamWriter> writers;

  ServerHandlers() {
    router.add("Echo", [](Request&& r, Responder resp) { resp.reply(std::move(r.body)); });
    router.add("Park", [this](Request&&, Responder resp) { parked.push_back(std::move(resp)); });
    router.add("Big", [](Request&&, Responder resp) { resp.reply(std::string(100 * 1024, 'b')); });
    router.add("Fail", [](Request&& r, Responder resp) {
      resp.fail(Status(Status::Code::permission_denied, r.body), r.token);
    });
    router.add("Throw", [](Request&&, Responder) { throw std::runtime_error("fuzz"); });
    router.add_stream("Stream", [](Request&& r, StreamWriter w) {
      for (int i = 0; i < 3; ++i) w.send(r.body);
      w.close(Status(Status::Code::ok));
    });
    router.add_stream("Hold", [this](Request&& r, StreamWriter w) {
      w.send(r.body);
      w.on_writable([w]() mutable { w.send("more"); });
      writers.push_back(std::move(w));
    });
  }
};

// The client connection preface and an empty SETTINGS frame.
const std::string kPreface = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") +
                             std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ServerHandlers* handlers = [] {
    cairn::log::set_level(cairn::log::Level::off);
    return new ServerHandlers;
  }();
  if (size < 1) return 0;
  uint8_t mode = data[0];
  std::string input = (mode & 1) ? kPreface : std::string();
  input.append(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t step = size_t{1} << ((mode >> 1) & 15);  // 1 byte .. 32 KiB per read

  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    ServerSettings settings;
    settings.max_message_bytes = 64 * 1024;
    settings.max_header_bytes = 4 * 1024;
    settings.max_concurrent_streams = 16;
    settings.max_buffered_bytes = 256 * 1024;
    settings.max_stream_queued_bytes = 64 * 1024;
    settings.max_connection_queued_bytes = 512 * 1024;
    ServerStats stats;
    auto owned = std::make_unique<MemoryTransport>("192.0.2.1:5000");
    MemoryTransport* transport = owned.get();
    auto session = std::make_shared<ServerSession>(&loop, std::move(owned), settings,
                                                   handlers->router, stats, nullptr);
    if (session->start()) {
      for (size_t off = 0; off < input.size() && !session->closed(); off += step) {
        size_t n = std::min(step, input.size() - off);
        transport->deliver(reinterpret_cast<const uint8_t*>(input.data() + off), n);
        uv_run(&loop, UV_RUN_NOWAIT);
        transport->take_written();
      }
      for (auto& r : handlers->parked) r.reply("late");
      for (auto& w : handlers->writers) {
        w.send(std::string(70 * 1024, 'w'));  // over max_message: ends the stream
        w.close();
      }
      uv_run(&loop, UV_RUN_NOWAIT);
      session->shutdown();
      uv_run(&loop, UV_RUN_NOWAIT);
      transport->deliver_eof();
    }
    handlers->parked.clear();
    handlers->writers.clear();
    session.reset();
  }
  for (int i = 0; i < 16 && uv_run(&loop, UV_RUN_NOWAIT) != 0; ++i) {
  }
  uv_loop_close(&loop);
  return 0;
}
