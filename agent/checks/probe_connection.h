// One outgoing socket of a check run: a non-blocking connect that tries each
// address in turn, optional TLS (OpenSSL on the socket itself, no copies
// through memory BIOs), then reads and writes, driven by the agent's
// SocketWatcher. A new socket per run, as Consul never reuses connections.
#pragma once

#include <openssl/ssl.h>
#include <sys/types.h>

#include <string>

#include "agent/checks/check_target.h"
#include "agent/checks/socket_watcher.h"
#include "agent/checks/tls_client.h"

namespace cairn::checks {

class ProbeConnection : private SocketWatcher::Client {
 public:
  // Callbacks may run inside open(), so call open() last.
  class Owner {
   public:
    // Connected (TLS established when asked for).
    virtual void on_connected() = 0;
    // The socket may be readable or writable: read and write until they would block.
    virtual void on_ready() = 0;
    // Every address failed, or TLS did; error is Go's text ("dial tcp ...: connect: ...").
    virtual void on_connect_failed(const std::string& error) = 0;

   protected:
    ~Owner() = default;
  };

  static constexpr ssize_t kWouldBlock = -1;
  static constexpr ssize_t kFailed = -2;

  ProbeConnection(SocketWatcher& watcher, Owner& owner) : watcher_(watcher), owner_(owner) {}
  ~ProbeConnection() { close(); }
  ProbeConnection(const ProbeConnection&) = delete;
  ProbeConnection& operator=(const ProbeConnection&) = delete;

  // socktype is SOCK_STREAM or SOCK_DGRAM; addrs and tls must outlive the connection.
  void open(const AddressList& addrs, int socktype, const TlsTarget* tls);
  // Bytes read (>0), 0 at end of stream, kWouldBlock, or kFailed (see error()).
  ssize_t read(char* buf, size_t len);
  // Bytes written (>=0), kWouldBlock, or kFailed.
  ssize_t write(const char* buf, size_t len);
  // After on_connected: ask for on_ready calls. (Readiness is watched in both
  // directions at once; this only makes sure the socket is watched.)
  void watch();
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

  // SocketWatcher::Client
  void on_socket_event(uint32_t events) override;

  void attempt();
  void next_address(int err);
  void established();
  void handshake();
  bool ensure_watched();
  void close_socket();

  SocketWatcher& watcher_;
  Owner& owner_;
  uint64_t token_ = 0;  // 0: not in the watcher's set
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  Phase phase_ = Phase::idle;
  const AddressList* addrs_ = nullptr;
  size_t next_ = 0;
  int first_error_ = 0;
  size_t first_error_index_ = 0;
  int socktype_ = SOCK_STREAM;
  const TlsTarget* tls_ = nullptr;
  std::string error_;
};

}  // namespace cairn::checks
