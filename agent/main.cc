// cairn: the agent daemon (`cairn agent`) and its command-line clients.
#include <cstdio>
#include <string>
#include <vector>

#include "agent/cli/commands.h"
#include "agent/run_agent.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" ||
      args[0] == "help") {
    std::fputs(cairn::cli::usage().c_str(), args.empty() ? stderr : stdout);
    return args.empty() ? 1 : 0;
  }
  std::string command = args[0];
  args.erase(args.begin());
  if (command == "agent") return cairn::run_agent(args);
  int rc = cairn::cli::run_command(command, std::move(args));
  if (rc == -1) {
    std::fprintf(stderr, "Unknown command: %s\n\n%s", command.c_str(), cairn::cli::usage().c_str());
    return 1;
  }
  return rc;
}
