// One outgoing socket of a check run: a non-blocking connect that tries each
// address in turn, optional TLS (OpenSSL on the socket itself, no copies
// through memory BIOs), then reads and writes, all driven by one uv_poll_t
// on the loop. A new socket per run, as Consul never reuses connections;
// the poll handle's memory is reused (ReusableHandle).
#pragma once

#include <openssl/ssl.h>
#include <sys/types.h>
#include <uv.h>

#include <string>

#include "agent/checks/check_target.h"
#include "agent/checks/reusable_handle.h"
#include "agent/checks/tls_client.h"

namespace cairn::checks {

class ProbeConnection {
 public:
  // Callbacks may run inside open(), so call open() last.
  class Owner {
   public:
    // Connected (TLS established when asked for). Nothing is polled until want().
    virtual void on_connected() = 0;
    // The socket became readable or writable as asked with want().
    virtual void on_ready() = 0;
    // Every address failed, or TLS did; error is Go's text ("dial tcp ...: connect: ...").
    virtual void on_connect_failed(const std::string& error) = 0;

   protected:
    ~Owner() = default;
  };

  static constexpr ssize_t kWouldBlock = -1;
  static constexpr ssize_t kFailed = -2;

  ProbeConnection(uv_loop_t* loop, Owner& owner) : loop_(loop), owner_(owner) {}
  ~ProbeConnection() { close(); }
  ProbeConnection(const ProbeConnection&) = delete;
  ProbeConnection& operator=(const ProbeConnection&) = delete;

  // socktype is SOCK_STREAM or SOCK_DGRAM; addrs and tls must outlive the connection.
  void open(const AddressList& addrs, int socktype, const TlsTarget* tls);
  // Bytes read (>0), 0 at end of stream, kWouldBlock, or kFailed (see error()).
  ssize_t read(char* buf, size_t len);
  // Bytes written (>=0), kWouldBlock, or kFailed.
  ssize_t write(const char* buf, size_t len);
  // What to be woken for next.
  void want(bool readable, bool writable);
  void close();

  bool connected() const { return phase_ == Phase::open; }
  bool is_open() const { return phase_ != Phase::idle; }
  const std::string& error() const { return error_; }
  // The address of the current (or last) attempt, as Go prints it.
  std::string peer_text() const;
  // "tcp" or "udp", for Go's "dial tcp" texts.
  const char* network() const { return socktype_ == SOCK_DGRAM ? "udp" : "tcp"; }

 private:
  enum class Phase { idle, connecting, handshaking, open };

  void attempt();
  void next_address(int err);
  void handshake();
  void poll(int events);
  void close_socket();
  static void on_poll(uv_poll_t* h, int status, int events);

  uv_loop_t* loop_;
  Owner& owner_;
  ReusableHandle<uv_poll_t> poll_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  Phase phase_ = Phase::idle;
  const AddressList* addrs_ = nullptr;
  size_t next_ = 0;
  int first_error_ = 0;
  size_t first_error_index_ = 0;
  int socktype_ = SOCK_STREAM;
  const TlsTarget* tls_ = nullptr;
  int events_ = 0;
  bool ssl_wants_write_ = false;  // TLS needs the socket writable to make progress on a read
  std::string error_;
};

}  // namespace cairn::checks
