#include "agent/run_agent.h"

#include <malloc.h>
#include <signal.h>
#include <uv.h>

#include <cstdio>

#include "agent/agent.h"
#include "agent/config/advertise.h"
#include "agent/config/flags.h"
#include "agent/config/identity.h"
#include "agent/config/listen_addresses.h"
#include "agent/config/settings_support.h"
#include "agent/http/api.h"
#include "agent/pid_file.h"
#include "cairn_version.h"
#include "common/files.h"
#include "common/log.h"
#include "common/sd_notify.h"
#include "common/uv_handle.h"

namespace cairn {

namespace {

int fail(const std::string& msg) {
  std::fprintf(stderr, "==> %s\n", msg.c_str());
  return 1;
}

// Where the banner points: the first listener, as Consul's banner shows.
std::string http_banner_address(const Agent& agent) {
  auto listeners = config::http_listen_addresses(agent.config());
  if (listeners.empty() || agent.config().ports.http <= 0) return "(off)";
  const config::ListenAddress& first = listeners.front();
  if (first.is_unix()) return first.str();
  return "http://" + first.str() + ":" + std::to_string(agent.http_port());
}

void print_banner(const Agent& agent, const config::AgentFlags& flags) {
  const auto& cfg = agent.config();
  std::printf("==> cairn agent running%s\n",
              cfg.dev ? " (dev mode: in-memory catalog, single node)" : "");
  std::printf("           Version: %s\n", CAIRN_VERSION);
  std::printf("         Node name: '%s' (id %s)\n", agent.identity().name.c_str(),
              agent.identity().id.c_str());
  std::printf("        Datacenter: '%s'  Server: %s\n", cfg.datacenter.c_str(),
              agent.is_server() ? "true" : "false");
  std::printf("          HTTP API: %s\n", http_banner_address(agent).c_str());
  auto dns_at = config::dns_listen_addresses(cfg);
  if (agent.dns_port() > 0 && !dns_at.empty())
    std::printf("               DNS: %s:%d (UDP and TCP)\n", dns_at.front().str().c_str(),
                agent.dns_port());
  std::printf("          Data dir: %s\n",
              cfg.data_dir.empty() ? "(none, in memory)" : cfg.data_dir.c_str());
  std::printf("          Services: %zu", agent.local().services().size());
  for (const auto& d : flags.config_dirs) std::printf("  from %s", d.c_str());
  std::printf("\n\n==> Log data will now stream in as it occurs:\n\n");
  std::fflush(stdout);
}

// One line naming every setting cairn accepts without effect (Consul configs
// carry them; cairn must not pretend to honour them).
void warn_no_effect_settings(const config::Config& cfg) {
  std::vector<std::string> names = config::no_effect_settings(cfg);
  if (names.empty()) return;
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  log::warn("agent", "settings accepted but without effect in cairn", {{"settings", list}});
}

// The /v1 API over the agent: composed here so that the agent does not
// depend on the HTTP layer that depends on it.
http::Handler make_http_api(Agent& agent) {
  auto api = std::make_shared<http_api::Api>(agent);
  return [api](const std::shared_ptr<http::Exchange>& ex) { api->handle(ex); };
}

}  // namespace

int run_agent(const std::vector<std::string>& args) {
  // Short-lived large buffers (an API answer listing 11,000 checks, the first
  // sync batch) must go back to the system when freed. glibc raises its mmap
  // threshold to the size of each such buffer freed, after which the next ones
  // come from the heap and stay in the process (about 11 MB with 11,000
  // checks). Setting the threshold keeps it fixed at glibc's default.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);

  config::AgentFlags flags;
  std::string err = config::parse_agent_flags(args, flags);
  if (!err.empty()) {
    std::fprintf(stderr, "%s\n\n%s", err.c_str(), config::agent_usage().c_str());
    return 1;
  }
  if (flags.help) {
    std::printf("%s", config::agent_usage().c_str());
    return 0;
  }
  if (flags.list_settings) {
    std::printf("%s", config::settings_table_json().c_str());
    return 0;
  }
  config::Config cfg;
  if (flags.dev) config::apply_dev_defaults(cfg);
  err = config::load_files(cfg, flags.config_files, flags.config_dirs, flags.config_format);
  if (err.empty()) err = config::apply_overrides(cfg, flags);
  if (err.empty()) err = config::validate(cfg);
  if (!err.empty()) return fail("Error loading configuration: " + err);

  log::Level level;
  if (!log::parse_level(cfg.log_level, level))
    return fail("Invalid log level \"" + cfg.log_level + "\" (trace, debug, info, warn, error)");
  log::set_level(level);
  log::set_json(cfg.log_json);
  warn_no_effect_settings(cfg);

  if (cfg.node_name.empty()) cfg.node_name = config::hostname();
  if (cfg.data_dir.empty() && !cfg.dev)
    return fail(
        "data_dir must be set (-data-dir or data_dir in the config); -dev runs without one");
  if (!cfg.data_dir.empty()) {
    if (!make_dirs(cfg.data_dir, 0700, err)) return fail("data dir: " + err);
  }
  if (cfg.node_id.empty()) {
    cfg.node_id = config::load_or_create_node_id(cfg.data_dir, err);
    if (cfg.node_id.empty()) return fail("node ID: " + err);
  }

  if (!cfg.dev) {
    // Fixed once: the catalog, gossip and DNS answers all carry this address.
    std::string advertise = config::advertise_address(cfg.bind_addr, cfg.advertise_addr, err);
    if (advertise.empty()) return fail("Error loading configuration: " + err);
    cfg.advertise_addr = advertise;
  }

  // Removed when this function returns: a graceful exit, or a failed start.
  PidFile pid_file;
  if (std::string e = pid_file.write(cfg.pid_file); !e.empty()) return fail(e);

  signal(SIGPIPE, SIG_IGN);
  uv_loop_t loop;
  uv_loop_init(&loop);
  int exit_code = 0;
  {
    // The agent keeps the configuration; a second copy here would hold every
    // service and check definition for the life of the process.
    Agent agent(&loop, flags, std::move(cfg));
    err = agent.start(make_http_api);
    if (!err.empty()) {
      log::error("agent", "startup failed", {{"error", err}});
      agent.shutdown();
      exit_code = 1;
    } else {
      print_banner(agent, flags);
      log::info("agent", "started",
                {{"node", agent.config().node_name},
                 {"datacenter", agent.config().datacenter},
                 {"http_port", std::to_string(agent.http_port())}});
      bool stopping = false;
      std::unique_ptr<SignalWatch> term, intr, hup;
      auto finish = [&] {
        agent.shutdown();
        term.reset();
        intr.reset();
        hup.reset();
      };
      // leave_on_terminate: SIGTERM leaves the gossip pool first, so others see
      // "left" rather than "failed" (Consul's default: clients yes, servers no).
      const config::Config& running = agent.config();
      bool leave_on_term = running.leave_on_terminate.value_or(!running.server && !running.dev);
      auto stop = [&](const char* why, bool leave) {
        if (stopping) return;
        stopping = true;
        log::info("agent", "shutting down", {{"reason", why}, {"leave", leave ? "true" : "false"}});
        sd_notify("STOPPING=1");
        if (leave) {
          agent.leave(finish);
        } else {
          finish();
        }
      };
      // skip_leave_on_interrupt: SIGINT stops without leaving. Consul's default:
      // servers skip the leave (their peers would lose a voter), clients leave.
      bool leave_on_int = !running.skip_leave_on_interrupt.value_or(running.server);
      term = std::make_unique<SignalWatch>(&loop, SIGTERM, [&] { stop("SIGTERM", leave_on_term); });
      intr = std::make_unique<SignalWatch>(&loop, SIGINT, [&] { stop("SIGINT", leave_on_int); });
      hup = std::make_unique<SignalWatch>(&loop, SIGHUP, [&] {
        sd_notify("RELOADING=1");
        agent.reload();
        sd_notify("READY=1");
      });
      agent.set_stop_handler([&] { stop("leave requested", false); });
      sd_notify("READY=1");
      uv_run(&loop, UV_RUN_DEFAULT);
      log::info("agent", "stopped");
    }
  }
  // Let every handle's close callback run before the loop goes away.
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return exit_code;
}

}  // namespace cairn
