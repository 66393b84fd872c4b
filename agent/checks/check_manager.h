// Starts and stops one runner per local check, by type, and owns what they
// share (CheckEnv) and the deregister-critical reaper. Runners report
// through the StatusSink; the manager passes results on and notes them for
// the reaper, and owns nothing else.
#pragma once

#include <uv.h>

#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "agent/checks/check_runner.h"
#include "agent/checks/critical_reaper.h"
#include "agent/checks/ttl_check.h"
#include "agent/config/service_definition.h"

namespace cairn::checks {

struct CheckManagerSettings {
  const state::Store* store = nullptr;  // for alias checks
  std::string node_name;
  size_t output_max_size = kDefaultOutputMaxSize;
  std::string ca_file, ca_path;  // the agent's CA, for HTTPS and gRPC over TLS
  ReaperSettings reaper;
};

class CheckManager {
 public:
  CheckManager(uv_loop_t* loop, CheckManagerSettings settings, StatusSink sink,
               CriticalReaper::Deregister deregister);
  ~CheckManager();

  // (Re)starts the runner for a check whose current status and output are
  // given. ttl_expires_in_ms restores a TTL deadline.
  void start(const std::string& check_id, const config::CheckSpec& spec, const std::string& status,
             const std::string& output, uint64_t ttl_expires_in_ms = 0);
  void stop(const std::string& check_id);
  void stop_all();

  // The TTL runner of a check, or nullptr if it is not a TTL check.
  TtlCheck* ttl(const std::string& check_id);
  size_t running() const { return runners_.size(); }
  CriticalReaper& reaper() { return reaper_; }

 private:
  void on_result(const std::string& id, std::string_view status, std::string_view output);

  CheckEnv env_;
  StatusSink sink_;
  CriticalReaper reaper_;
  // Runners ordered and found by their own ID: a map would keep a second
  // copy of every check ID as its key.
  struct RunnerById {
    using is_transparent = void;
    static std::string_view id_of(const std::unique_ptr<CheckRunner>& r) { return r->id(); }
    static std::string_view id_of(std::string_view id) { return id; }
    bool operator()(const auto& a, const auto& b) const { return id_of(a) < id_of(b); }
  };
  std::set<std::unique_ptr<CheckRunner>, RunnerById> runners_;
};

// Why a check definition can never run ("" when it can): the URL, host:port
// and method checks Consul leaves to run time, answered at registration
// instead, naming the field.
std::string validate_runnable(const config::CheckSpec& spec);

}  // namespace cairn::checks
