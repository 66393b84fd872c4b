// The running forwarder: owns the loop's pieces (listeners, forwarder,
// status endpoint, upstream-file watch, signals) and the life cycle:
// start, SIGHUP reload and SIGTERM graceful stop.
//
// Reload is a swap: the new config and its upstream files are read and
// validated whole, new listen sockets are bound, and only then is anything
// replaced; on any error the running config stays and the log says why.
// Sockets, the cache and upstream health survive a reload; only cached
// answers of groups whose servers or cache rules changed are dropped.
#pragma once

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "common/uv_handle.h"
#include "dnsfwd/config.h"
#include "dnsfwd/file_watch.h"
#include "dnsfwd/forwarder.h"
#include "dnsfwd/listeners.h"
#include "dnsfwd/stats.h"
#include "dnsfwd/status_endpoint.h"

namespace cairn::dnsfwd {

struct DaemonOptions {
  std::string config_path = kDefaultConfigPath;
  bool config_explicit = false;  // -config given: a missing file is an error
  std::string log_level;         // -log-level overrides the file
  bool log_json = false;         // -log-json overrides the file
};

// Reads the config (or the built-in defaults when the default path does not
// exist) and the default group's upstream files. Shared with -check.
struct LoadedConfig {
  Config config;
  std::vector<Endpoint> default_servers;
  std::string default_source;      // "config" or the file the servers came from
  std::vector<std::string> notes;  // skipped upstream entries and the like
  std::string upstream_error;      // no default upstream found (not fatal)
};
bool load_everything(const DaemonOptions& options, LoadedConfig& out, std::string& error);

class Daemon {
 public:
  Daemon(uv_loop_t* loop, DaemonOptions options);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  bool start(std::string& error);
  void reload();
  void terminate();

 private:
  bool install(const LoadedConfig& loaded, bool initial, std::string& error);
  void on_upstream_files_changed();
  void apply_logging(const Config& config);
  void drain_step();

  uv_loop_t* loop_;
  DaemonOptions options_;
  MetricsRegistry metrics_;
  Stats stats_;
  Forwarder forwarder_;
  Listeners listeners_;
  StatusEndpoint status_;
  FileWatch watch_;
  std::unique_ptr<SignalWatch> hup_, term_, int_;
  Timer drain_timer_;
  uint64_t drain_deadline_ms_ = 0;
  LoadedConfig current_;
  bool stopping_ = false;
};

}  // namespace cairn::dnsfwd
