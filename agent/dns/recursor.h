// Forwards questions outside the cairn domain (and unknown reverse names) to
// the configured `recursors`, as Consul does: the same transport as the
// client (UDP or TCP), each upstream in order (or shuffled with
// recursor_strategy "random") with recursor_timeout for each; an answer with
// RCODE other than NOERROR/NXDOMAIN, a timeout or an error moves on to the
// next. A truncated answer is passed on as it is, so the client retries over
// TCP. Nothing is cached.
//
// Each forwarded query gets a fresh socket and a random ID, so a reply is
// only accepted from the upstream it was sent to, with the ID and question
// it was sent with (ldns parses upstream replies).
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/dns/answer.h"
#include "common/duration.h"
#include "common/uv_handle.h"

namespace cairn::dns {

class Counters;

struct Upstream {
  sockaddr_storage addr{};
  std::string text;  // "ip:port", for logs
};

// "10.0.0.2", "10.0.0.2:5353", "::1", "[::1]:5353". Returns "" or the error.
std::string parse_upstream(const std::string& text, Upstream& out);

class Recursor {
 public:
  // reply is the upstream's answer with the client's ID restored, or empty
  // when every upstream failed.
  using Done = std::function<void(std::span<const uint8_t> reply)>;

  Recursor(uv_loop_t* loop, Counters& counters);
  ~Recursor();
  Recursor(const Recursor&) = delete;
  Recursor& operator=(const Recursor&) = delete;

  // max_in_flight: queries forwarded at once (dns_config.recursor_max_in_flight).
  void configure(std::vector<Upstream> upstreams, Nanos timeout, bool random_order,
                 size_t max_in_flight);
  bool enabled() const { return !upstreams_->empty(); }

  // Starts forwarding a query (copied). Returns false, without calling done,
  // when too many queries are already in flight (counted as
  // consul.dns.recursion_overload) or there is nothing to forward to.
  bool resolve(std::span<const uint8_t> query, Transport transport, Done done);
  size_t in_flight() const { return jobs_.size(); }
  // Abandons every query in flight (done is not called).
  void close();

  struct Job;  // public so that libuv callbacks can name it

 private:
  void attempt(Job& job);
  void attempt_udp(Job& job);
  void attempt_tcp(Job& job);
  void on_connected(Job& job, int status);
  void on_reply(Job& job, std::span<const uint8_t> reply);
  void fail_attempt(Job& job, const std::string& why);
  void finish(uint64_t id, std::span<const uint8_t> reply);

  uv_loop_t* loop_;
  Counters& counters_;
  // Shared with the queries in flight, so a reload cannot pull an upstream from under them.
  std::shared_ptr<const std::vector<Upstream>> upstreams_ =
      std::make_shared<std::vector<Upstream>>();
  uint64_t timeout_ms_ = 2000;
  bool random_order_ = false;
  size_t max_in_flight_ = 4096;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::shared_ptr<Job>> jobs_;  // shared: callbacks hold weak refs
  std::vector<uint8_t> read_buf_;
};

}  // namespace cairn::dns
