// Sends a daemon's metrics to a statsd (or DogStatsD) server over UDP every
// interval: one connected UDP socket on the daemon's loop, one reused buffer,
// datagrams of at most kStatsdMaxDatagram bytes. Sending never blocks: a
// datagram the kernel does not take at once is dropped and counted.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "common/metrics.h"
#include "common/statsd_format.h"
#include "common/uv_handle.h"

namespace cairn {

class StatsdSink {
 public:
  // Fills a registry with the metrics to send (called once per interval).
  using Collect = std::function<void(MetricsRegistry&)>;

  // address: "host:port" or "[v6]:port"; a host name is resolved once, here.
  // own: where the sink counts what it sent and dropped. nullptr and error set
  // when the address is unusable.
  static std::unique_ptr<StatsdSink> create(uv_loop_t* loop, const std::string& address,
                                            StatsdOptions options, uint64_t interval_ms,
                                            Collect collect, MetricsRegistry& own,
                                            std::string& error);
  StatsdSink(const StatsdSink&) = delete;
  StatsdSink& operator=(const StatsdSink&) = delete;

  // Sends one snapshot now (the timer calls this every interval).
  void flush();

 private:
  StatsdSink(uv_loop_t* loop, StatsdOptions options, Collect collect, MetricsRegistry& own,
             const char* sink_kind);
  void send(std::string_view datagram);

  UvHandle<uv_udp_t> socket_;
  Timer timer_;
  StatsdEncoder encoder_;
  Collect collect_;
  Counter& sent_;
  Counter& dropped_;
};

}  // namespace cairn
