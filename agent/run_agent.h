// `cairn agent`: parses flags and config, runs the agent's loop until SIGTERM
// (graceful) or SIGINT; SIGHUP reloads.
#pragma once

#include <string>
#include <vector>

namespace cairn {

int run_agent(const std::vector<std::string>& args);

}  // namespace cairn
