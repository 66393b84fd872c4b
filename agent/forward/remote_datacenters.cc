#include "agent/forward/remote_datacenters.h"

namespace cairn::forward {

RemoteDatacenters::RemoteDatacenters(uv_loop_t* loop, std::string local_datacenter,
                                     std::string origin_node)
    : loop_(loop),
      local_datacenter_(std::move(local_datacenter)),
      origin_node_(std::move(origin_node)) {}

void RemoteDatacenters::update(
    std::map<std::string, std::vector<ServerEntry>> servers_by_datacenter) {
  servers_by_datacenter.erase(local_datacenter_);
  for (auto it = forwarders_.begin(); it != forwarders_.end();)
    it = servers_by_datacenter.contains(it->first) ? std::next(it) : forwarders_.erase(it);
  for (auto& [dc, servers] : servers_by_datacenter) {
    auto& f = forwarders_[dc];
    if (!f)
      f = std::make_unique<Forwarder>(
          loop_,
          Forwarder::Settings{origin_node_, 15'000, uv_hrtime() ^ std::hash<std::string>{}(dc)});
    f->set_servers(std::move(servers));
  }
}

Forwarder* RemoteDatacenters::find(std::string_view datacenter) {
  auto it = forwarders_.find(datacenter);
  return it == forwarders_.end() || it->second->current_server() == nullptr ? nullptr
                                                                            : it->second.get();
}

}  // namespace cairn::forward
