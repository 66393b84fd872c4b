#include "agent/config/dns_limits.h"

#include "common/decode.h"

namespace cairn::config {

bool decode_dns_limit(Decoder& d, std::string_view key, const Value& v, DnsLimits& out) {
  if (key == "tcpmaxconnections")
    out.tcp_max_connections = static_cast<size_t>(d.integer(v, 1, 1 << 20));
  else if (key == "tcpidletimeout") {
    out.tcp_idle_timeout = d.duration(v);
    if (out.tcp_idle_timeout < kMillisecond) d.fail(v, "must be at least 1ms");
  } else if (key == "tcpmaxqueuedbytes")
    out.tcp_max_queued_bytes = static_cast<size_t>(d.integer(v, 65537, int64_t{1} << 30));
  else if (key == "tcpmaxinflight")
    out.tcp_max_in_flight = static_cast<uint32_t>(d.integer(v, 1, 65535));
  else if (key == "recursormaxinflight")
    out.recursor_max_in_flight = static_cast<size_t>(d.integer(v, 1, 1 << 20));
  else
    return false;
  return true;
}

}  // namespace cairn::config
