#include "common/statsd_sink.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cstring>

namespace cairn {

namespace {

// Splits "host:port" / "[v6]:port" and resolves it once (a name is allowed:
// Consul's statsd_address is resolved the same way).
bool resolve_udp(const std::string& address, sockaddr_storage& out, std::string& error) {
  std::string host, port;
  if (!address.empty() && address[0] == '[') {
    auto close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      error = "\"" + address + "\" is not host:port";
      return false;
    }
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      error = "\"" + address + "\" is not host:port";
      return false;
    }
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0 || !res) {
    error = "\"" + address + "\": " + gai_strerror(rc);
    return false;
  }
  std::memcpy(&out, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  return true;
}

}  // namespace

StatsdSink::StatsdSink(uv_loop_t* loop, StatsdOptions options, Collect collect,
                       MetricsRegistry& own, const char* sink_kind)
    : timer_(loop),
      encoder_(std::move(options)),
      collect_(std::move(collect)),
      sent_(own.counter("consul.cairn.statsd.datagrams", "Datagrams sent to statsd",
                        {{"sink", sink_kind}})),
      dropped_(own.counter("consul.cairn.statsd.dropped",
                           "Datagrams or lines the statsd sink could not send",
                           {{"sink", sink_kind}})) {}

std::unique_ptr<StatsdSink> StatsdSink::create(uv_loop_t* loop, const std::string& address,
                                               StatsdOptions options, uint64_t interval_ms,
                                               Collect collect, MetricsRegistry& own,
                                               std::string& error) {
  sockaddr_storage addr{};
  if (!resolve_udp(address, addr, error)) return nullptr;
  const char* kind = options.dogstatsd ? "dogstatsd" : "statsd";
  std::unique_ptr<StatsdSink> sink(
      new StatsdSink(loop, std::move(options), std::move(collect), own, kind));
  if (int rc = uv_udp_init(loop, sink->socket_.get()); rc != 0) {
    error = uv_strerror(rc);
    return nullptr;
  }
  sink->socket_.mark_initialized();
  if (int rc = uv_udp_connect(sink->socket_.get(), reinterpret_cast<const sockaddr*>(&addr));
      rc != 0) {
    error = "\"" + address + "\": " + uv_strerror(rc);
    return nullptr;
  }
  StatsdSink* self = sink.get();
  sink->timer_.start(interval_ms, interval_ms, [self] { self->flush(); });
  sink->timer_.unref();  // a background duty: it never keeps the loop alive alone
  return sink;
}

void StatsdSink::send(std::string_view datagram) {
  uv_buf_t buf =
      uv_buf_init(const_cast<char*>(datagram.data()), static_cast<unsigned>(datagram.size()));
  // Connected socket: no address; a full socket buffer or an ICMP error from
  // a missing listener loses this datagram only.
  if (uv_udp_try_send(socket_.get(), &buf, 1, nullptr) == static_cast<int>(datagram.size()))
    sent_.inc();
  else
    dropped_.inc();
}

void StatsdSink::flush() {
  MetricsRegistry snapshot;
  collect_(snapshot);
  uint64_t oversized = encoder_.oversized_lines();
  encoder_.encode(snapshot, kStatsdMaxDatagram, [this](std::string_view d) { send(d); });
  dropped_.inc(encoder_.oversized_lines() - oversized);
}

}  // namespace cairn
