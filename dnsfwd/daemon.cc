#include "dnsfwd/daemon.h"

#include <csignal>

#include "cairn_version.h"
#include "common/files.h"
#include "common/log.h"
#include "dnsfwd/upstream_source.h"

namespace cairn::dnsfwd {

bool load_everything(const DaemonOptions& o, LoadedConfig& out, std::string& error) {
  out = LoadedConfig{};
  if (file_exists(o.config_path)) {
    if (!load_config(o.config_path, out.config, error)) return false;
  } else if (o.config_explicit) {
    error = o.config_path + ": no such file";
    return false;
  } else {
    out.config = default_config();
    out.notes.push_back(o.config_path + " not found: using the built-in defaults");
  }
  const Group& def = out.config.groups[0];
  if (!def.servers.empty()) {
    out.default_servers = def.servers;
    out.default_source = "config";
    return true;
  }
  std::vector<Endpoint> own;
  for (const auto& l : out.config.listen) own.push_back(l.endpoint);
  UpstreamFiles files;
  std::string uerr;
  if (read_upstream_files(def.server_files, own, files, uerr)) {
    out.default_servers = files.servers;
    out.default_source = files.file;
  } else {
    out.upstream_error = uerr;
  }
  for (auto& s : files.skipped) out.notes.push_back("skipped " + s);
  return true;
}

Daemon::Daemon(uv_loop_t* loop, DaemonOptions options)
    : loop_(loop),
      options_(std::move(options)),
      stats_(metrics_),
      forwarder_(loop, metrics_, stats_),
      listeners_(loop, &forwarder_, stats_),
      status_(loop, metrics_, forwarder_),
      watch_(loop, [this] { on_upstream_files_changed(); }),
      drain_timer_(loop) {
  forwarder_.set_sink(&listeners_);
}

Daemon::~Daemon() {
  watch_.stop();
  status_.close();
  forwarder_.shutdown();
  listeners_.close_all();
}

void Daemon::apply_logging(const Config& c) {
  log::Level level = log::Level::info;
  log::parse_level(options_.log_level.empty() ? c.log_level : options_.log_level, level);
  log::set_level(level);
  log::set_json(options_.log_json || c.log_json);
}

bool Daemon::install(const LoadedConfig& loaded, bool initial, std::string& error) {
  const Config& c = loaded.config;
  std::string err = listeners_.apply(c.listen, c.limits, /*skip_missing_v6=*/true);
  if (!err.empty()) {
    error = err;
    return false;
  }
  if (c.metrics) {
    err = status_.listen(*c.metrics);
    if (!err.empty()) {
      if (initial) {
        error = "metrics endpoint: " + err;
        return false;
      }
      log::warn("dnsfwd", "metrics endpoint not moved", {{"error", err}});
    }
  } else {
    status_.close();
  }
  auto groups = forwarder_.make_groups(c, loaded.default_servers, loaded.default_source);
  forwarder_.apply(c, std::move(groups));
  const Group& def = c.groups[0];
  if (def.servers.empty())
    watch_.watch(def.server_files, c.upstream_poll_ms);
  else
    watch_.stop();
  apply_logging(c);
  current_ = loaded;
  return true;
}

bool Daemon::start(std::string& error) {
  LoadedConfig loaded;
  if (!load_everything(options_, loaded, error)) return false;
  apply_logging(loaded.config);
  if (!install(loaded, true, error)) return false;
  for (const auto& n : loaded.notes) log::info("dnsfwd", n);
  if (!loaded.upstream_error.empty())
    log::warn("dnsfwd",
              "no default upstreams yet; names outside the routes get SERVFAIL until one appears",
              {{"error", loaded.upstream_error}});

  std::string listen, ups;
  for (const auto& e : listeners_.bound()) listen += (listen.empty() ? "" : ",") + e.to_string();
  for (const auto& e : loaded.default_servers) ups += (ups.empty() ? "" : ",") + e.to_string();
  log::info("dnsfwd", "cairn-dnsfwd started",
            {{"version", CAIRN_VERSION},
             {"listen", listen},
             {"upstreams", ups},
             {"upstreams_from", loaded.default_source},
             {"routes", std::to_string(loaded.config.routes.size())},
             {"config", loaded.config.source.empty() ? "defaults" : loaded.config.source}});

  hup_ = std::make_unique<SignalWatch>(loop_, SIGHUP, [this] { reload(); });
  term_ = std::make_unique<SignalWatch>(loop_, SIGTERM, [this] { terminate(); });
  int_ = std::make_unique<SignalWatch>(loop_, SIGINT, [this] { terminate(); });
  return true;
}

void Daemon::reload() {
  if (stopping_) return;
  LoadedConfig loaded;
  std::string error;
  if (!load_everything(options_, loaded, error)) {
    stats_.reload_failures.inc();
    log::error("dnsfwd", "reload failed, keeping the running config", {{"error", error}});
    return;
  }
  if (!loaded.upstream_error.empty() && loaded.config.groups[0].servers.empty()) {
    // The file vanished or emptied: the last good list beats none.
    loaded.default_servers = current_.default_servers;
    loaded.default_source = current_.default_source;
    log::warn("dnsfwd", "upstream files unusable, keeping the previous upstreams",
              {{"error", loaded.upstream_error}});
  }
  if (!install(loaded, false, error)) {
    stats_.reload_failures.inc();
    log::error("dnsfwd", "reload failed, keeping the running config", {{"error", error}});
    return;
  }
  stats_.reloads.inc();
  log::info("dnsfwd", "reloaded",
            {{"config", loaded.config.source.empty() ? "defaults" : loaded.config.source},
             {"routes", std::to_string(loaded.config.routes.size())}});
}

void Daemon::on_upstream_files_changed() {
  if (stopping_) return;
  const Group& def = current_.config.groups[0];
  if (!def.servers.empty()) return;
  std::vector<Endpoint> own;
  for (const auto& l : current_.config.listen) own.push_back(l.endpoint);
  UpstreamFiles files;
  std::string err;
  if (!read_upstream_files(def.server_files, own, files, err)) {
    log::warn("dnsfwd", "upstream files unusable, keeping the previous upstreams",
              {{"error", err}});
    return;
  }
  if (files.servers == current_.default_servers && files.file == current_.default_source) return;
  LoadedConfig next = current_;
  next.default_servers = files.servers;
  next.default_source = files.file;
  auto groups = forwarder_.make_groups(next.config, next.default_servers, next.default_source);
  forwarder_.apply(next.config, std::move(groups));
  current_ = next;
  stats_.upstream_file_changes.inc();
  std::string ups;
  for (const auto& e : files.servers) ups += (ups.empty() ? "" : ",") + e.to_string();
  log::info("dnsfwd", "upstreams changed", {{"file", files.file}, {"upstreams", ups}});
}

void Daemon::terminate() {
  if (stopping_) return;
  stopping_ = true;
  log::info("dnsfwd", "stopping: answering the queries in flight");
  listeners_.stop_accepting();
  watch_.stop();
  uint32_t budget = 0;
  for (const auto& g : current_.config.groups) budget = std::max(budget, g.timeouts.total_ms);
  drain_deadline_ms_ = uv_now(loop_) + budget + 200;
  drain_step();
}

void Daemon::drain_step() {
  if (forwarder_.waiting_clients() > 0 && uv_now(loop_) < drain_deadline_ms_) {
    drain_timer_.start(10, 0, [this] { drain_step(); });
    return;
  }
  status_.close();
  forwarder_.shutdown();
  listeners_.close_all();
  hup_.reset();
  term_.reset();
  int_.reset();
  log::info("dnsfwd", "stopped");
}

}  // namespace cairn::dnsfwd
