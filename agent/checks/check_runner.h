// A running health check. Runners are owned by the CheckManager; destroying
// one stops it (its timers and sockets close with it).
#pragma once

#include <functional>
#include <string>

namespace cairn::checks {

// Where a runner reports each result: the check's new status and output.
using StatusSink =
    std::function<void(const std::string& check_id, const std::string& status, std::string output)>;

class CheckRunner {
 public:
  virtual ~CheckRunner() = default;
};

}  // namespace cairn::checks
