// cairn-dnsfwd [-config F] [-check] [-log-level L] [-log-json]
// cairn-dnsfwd setup-resolv [--undo] [--root DIR]
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "cairn_version.h"
#include "common/sd_notify.h"
#include "common/log.h"
#include "dnsfwd/daemon.h"
#include "dnsfwd/setup_resolv.h"

using namespace cairn;
using namespace cairn::dnsfwd;

namespace {

void usage(FILE* to) {
  std::fprintf(
      to,
      "usage: cairn-dnsfwd [-config FILE] [-check] [-log-level LEVEL] [-log-json]\n"
      "       cairn-dnsfwd setup-resolv [--undo] [--root DIR]\n"
      "\n"
      "The local DNS forwarder: names under the cairn domain go to the agent,\n"
      "everything else to the upstream resolvers, with a cache.\n"
      "  -config FILE   configuration (default %s)\n"
      "  -check         validate the configuration and the upstream files, then exit\n"
      "  -log-level L   trace, debug, info, warn, error\n"
      "  -log-json      log one JSON object per line\n"
      "  -version       print the version\n"
      "SIGHUP reloads the configuration; SIGTERM stops after answering queries in flight.\n",
      kDefaultConfigPath);
}

// Accepts -flag and --flag, and -flag=value.
bool flag(std::string_view arg, std::string_view name, std::string* value, int& i, int argc,
          char** argv) {
  while (!arg.empty() && arg.front() == '-') arg.remove_prefix(1);
  if (arg == name) {
    if (!value) return true;
    if (i + 1 >= argc) {
      std::fprintf(stderr, "cairn-dnsfwd: -%s needs a value\n", std::string(name).c_str());
      std::exit(2);
    }
    *value = argv[++i];
    return true;
  }
  if (value && arg.size() > name.size() && arg.substr(0, name.size()) == name &&
      arg[name.size()] == '=') {
    *value = std::string(arg.substr(name.size() + 1));
    return true;
  }
  return false;
}

int setup_resolv_main(int argc, char** argv) {
  SetupResolvOptions o;
  for (int i = 2; i < argc; ++i) {
    std::string_view a = argv[i];
    std::string v;
    if (flag(a, "undo", nullptr, i, argc, argv))
      o.undo = true;
    else if (flag(a, "root", &v, i, argc, argv))
      o.root = v;
    else if (flag(a, "listen", &v, i, argc, argv))
      o.listen_address = v;
    else if (flag(a, "help", nullptr, i, argc, argv) || flag(a, "h", nullptr, i, argc, argv)) {
      std::printf(
          "usage: cairn-dnsfwd setup-resolv [--undo] [--root DIR]\n"
          "Saves the host's nameservers to /etc/cairn/resolv.upstream and points\n"
          "/etc/resolv.conf at 127.0.0.1; --undo restores the original. Idempotent.\n"
          "--root DIR works on DIR/etc instead of /etc.\n");
      return 0;
    } else {
      std::fprintf(stderr, "cairn-dnsfwd setup-resolv: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  SetupResolvResult r = setup_resolv(o);
  for (const auto& line : r.lines)
    std::fprintf(r.exit_code ? stderr : stdout, "%s\n", line.c_str());
  return r.exit_code;
}

int check_main(const DaemonOptions& o) {
  LoadedConfig loaded;
  std::string error;
  if (!load_everything(o, loaded, error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  const Config& c = loaded.config;
  std::printf("config: %s\n", c.source.empty() ? "built-in defaults" : c.source.c_str());
  for (const auto& n : loaded.notes) std::printf("note: %s\n", n.c_str());
  for (const auto& l : c.listen)
    std::printf("listen: %s (udp+tcp)\n", l.endpoint.to_string().c_str());
  std::string ups;
  for (const auto& e : loaded.default_servers) ups += (ups.empty() ? "" : ", ") + e.to_string();
  if (loaded.default_servers.empty())
    std::printf("warning: %s\n", loaded.upstream_error.c_str());
  else
    std::printf("upstreams: %s (from %s, %s)\n", ups.c_str(), loaded.default_source.c_str(),
                policy_name(c.groups[0].policy));
  for (const auto& r : c.routes) {
    const Group& g = c.groups[r.group];
    std::string servers;
    for (const auto& e : g.servers) servers += (servers.empty() ? "" : ", ") + e.to_string();
    std::printf("route: %s -> %s\n", r.text.c_str(), servers.c_str());
  }
  std::printf("cache: %u entries, %llu bytes\n", c.cache.max_entries,
              static_cast<unsigned long long>(c.cache.max_bytes));
  std::printf("ok\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "setup-resolv")
    return setup_resolv_main(argc, argv);

  DaemonOptions o;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    std::string v;
    if (flag(a, "config", &v, i, argc, argv) || flag(a, "config-file", &v, i, argc, argv)) {
      o.config_path = v;
      o.config_explicit = true;
    } else if (flag(a, "check", nullptr, i, argc, argv)) {
      check = true;
    } else if (flag(a, "log-level", &v, i, argc, argv)) {
      log::Level l;
      if (!log::parse_level(v, l)) {
        std::fprintf(stderr, "cairn-dnsfwd: unknown log level %s\n", v.c_str());
        return 2;
      }
      o.log_level = v;
    } else if (flag(a, "log-json", nullptr, i, argc, argv)) {
      o.log_json = true;
    } else if (flag(a, "version", nullptr, i, argc, argv)) {
      std::printf("cairn-dnsfwd %s (%s)\n", CAIRN_VERSION, CAIRN_REVISION);
      return 0;
    } else if (flag(a, "help", nullptr, i, argc, argv) || flag(a, "h", nullptr, i, argc, argv)) {
      usage(stdout);
      return 0;
    } else {
      std::fprintf(stderr, "cairn-dnsfwd: unknown argument %s\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if (check) return check_main(o);

  std::signal(SIGPIPE, SIG_IGN);  // a client closing its TCP connection is not fatal
  uv_loop_t* loop = uv_default_loop();
  int rc = 0;
  {
    Daemon daemon(loop, o);
    std::string error;
    if (!daemon.start(error)) {
      log::error("dnsfwd", "cannot start", {{"error", error}});
      rc = 1;
    } else {
      sd_notify("READY=1");  // Type=notify: systemd orders nss-lookup.target after this
      uv_run(loop, UV_RUN_DEFAULT);
    }
  }
  // Let the close callbacks of everything the daemon owned run, then free the loop.
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  return rc;
}
