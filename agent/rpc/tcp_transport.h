// Transport on a libuv TCP socket, and the client's connect step.
//
// Writes are tried at once (uv_try_write) and only what the kernel does not
// take is copied into a queued uv_write, so a small answer costs no
// allocation beyond the session's own output buffer.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "agent/rpc/status.h"
#include "agent/rpc/transport.h"
#include "common/net/address.h"
#include "common/uv_handle.h"

namespace cairn::rpc {

class TcpTransport final : public Transport {
 public:
  // Takes an initialized, connected (or accepted) socket.
  explicit TcpTransport(UvHandle<uv_tcp_t> socket);
  ~TcpTransport() override;
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  // Transport
  void start(Receiver& receiver) override;
  bool write(std::string bytes) override;
  size_t queued_bytes() const override { return queued_; }
  void set_reading(bool on) override;
  void close() override;
  const std::string& peer() const override { return peer_; }

 private:
  struct WriteRequest;
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
  static void on_written(uv_write_t* req, int status);
  void write_failed();
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(socket_.get()); }

  UvHandle<uv_tcp_t> socket_;
  std::shared_ptr<TcpTransport*> self_;  // queued writes see it cleared once this is gone
  Receiver* receiver_ = nullptr;
  std::string peer_;
  std::string read_buffer_;
  size_t queued_ = 0;
  bool reading_ = false;
  bool write_failed_ = false;
  bool closed_ = false;
};

// Connects to one address; the callback gets the transport, or a null one
// and the reason (unavailable). Destroying the attempt cancels it silently.
class TcpConnect {
 public:
  using Callback = std::function<void(std::unique_ptr<Transport>, Status)>;
  TcpConnect(uv_loop_t* loop, const net::Endpoint& to, uint64_t timeout_ms, Callback done);
  ~TcpConnect();
  TcpConnect(const TcpConnect&) = delete;
  TcpConnect& operator=(const TcpConnect&) = delete;

 private:
  static void on_connected(uv_connect_t* req, int status);
  void finish(std::unique_ptr<Transport> t, Status s);

  struct Request;  // outlives this object until libuv is done with it
  Request* request_ = nullptr;
  Timer timer_;
  std::string target_;
  Callback done_;
};

}  // namespace cairn::rpc
