#include "agent/checks/dial_run.h"

#include "agent/state/rows.h"

namespace cairn::checks {

DialTarget::DialTarget(std::string configured) : text(std::move(configured)) {
  std::string error;
  if (auto hp = split_host_port(text, &error)) {
    host_port = *hp;
    literal = literal_addresses(host_port.host, host_port.port, addresses);
    addresses.shrink_to_fit();
  }
}

std::string DialTarget::parse_error() const {
  std::string error;
  split_host_port(text, &error);
  return error;
}

void DialRun::dial(const DialTarget& target, int socktype, std::string_view network) {
  if (target.literal) {
    conn.open(target.addresses, socktype, nullptr);
    return;
  }
  resolver.resolve(target.host_port.host, target.host_port.port, &addresses,
                   [this, socktype, network](const std::string& err) {
                     if (!err.empty()) {
                       output.assign("dial ").append(network).append(": ").append(err);
                       end(state::kCritical);
                       return;
                     }
                     conn.open(addresses, socktype, nullptr);
                   });
}

}  // namespace cairn::checks
