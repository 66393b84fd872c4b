// Starts and stops one runner per local check, by type. Runners report
// through the StatusSink; the manager owns them and nothing else.
#pragma once

#include <uv.h>

#include <map>
#include <memory>
#include <string>

#include "agent/checks/check_runner.h"
#include "agent/checks/ttl_check.h"
#include "agent/config/service_definition.h"

namespace cairn::checks {

class CheckManager {
 public:
  CheckManager(uv_loop_t* loop, StatusSink sink) : loop_(loop), sink_(std::move(sink)) {}

  // (Re)starts the runner for a check. ttl_expires_in_ms restores a TTL deadline.
  void start(const std::string& check_id, const config::CheckSpec& spec,
             uint64_t ttl_expires_in_ms = 0);
  void stop(const std::string& check_id);
  void stop_all() { runners_.clear(); }

  // The TTL runner of a check, or nullptr if it is not a TTL check.
  TtlCheck* ttl(const std::string& check_id);
  size_t running() const { return runners_.size(); }

 private:
  uv_loop_t* loop_;
  StatusSink sink_;
  std::map<std::string, std::unique_ptr<CheckRunner>> runners_;
};

}  // namespace cairn::checks
