// The node's identity: its name (default: the hostname) and its ID, a UUID
// created once and kept in the data dir so the node keeps it across restarts.
#pragma once

#include <string>

namespace cairn::config {

std::string hostname();
// Reads data_dir/node-id, creating it if absent. Without a data dir (-dev),
// returns a fresh UUID. Returns "" and sets error on failure.
std::string load_or_create_node_id(const std::string& data_dir, std::string& error);

}  // namespace cairn::config
