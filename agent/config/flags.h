// `cairn agent` command-line flags, with Consul's names (-dev, -server,
// -config-dir D, ...). Both "-flag value" and "-flag=value" forms, one or two
// leading dashes, as Go's flag package accepts.
#pragma once

#include <string>
#include <vector>

#include "agent/config/config.h"

namespace cairn::config {

struct AgentFlags {
  std::vector<std::string> config_files;
  std::vector<std::string> config_dirs;
  // Overrides applied after the files, in the order given.
  std::vector<std::pair<std::string, std::string>> overrides;
  std::string config_format;  // -config-format: "", "json", "yaml" or "hcl"
  bool dev = false;
  bool help = false;
  bool list_settings = false;  // -list-settings: print settings_support's table
};

// Returns "" or an error naming the flag.
std::string parse_agent_flags(const std::vector<std::string>& args, AgentFlags& out);
// Applies -dev defaults (before files) or flag overrides (after files).
void apply_dev_defaults(Config& cfg);
std::string apply_overrides(Config& cfg, const AgentFlags& flags);
std::string agent_usage();

}  // namespace cairn::config
