// The CLI subcommands. Each takes the arguments after its name and returns
// the process exit status.
#pragma once

#include <string>
#include <vector>

namespace cairn::cli {

using Args = std::vector<std::string>;

int cmd_status(Args args);
int cmd_members(Args args);
int cmd_catalog(Args args);
int cmd_services(Args args);
int cmd_reload(Args args);
int cmd_validate(Args args);
int cmd_info(Args args);
int cmd_version(Args args);
int cmd_maint(Args args);
int cmd_leave(Args args);
int cmd_kv(Args args);
int cmd_lock(Args args);
int cmd_watch(Args args);
int cmd_join(Args args);
int cmd_force_leave(Args args);
int cmd_keygen(Args args);
int cmd_keyring(Args args);
int cmd_operator(Args args);
int cmd_monitor(Args args);
int cmd_rtt(Args args);
int cmd_event(Args args);
int cmd_snapshot(Args args);

// Dispatches `cairn <command> ...`; returns -1 for an unknown command.
int run_command(const std::string& command, Args args);
std::string usage();

}  // namespace cairn::cli
