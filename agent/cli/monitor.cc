// `cairn monitor [-log-level=<level>] [-log-json]`: the agent's log lines as
// they happen (/v1/agent/monitor), until interrupted, as `consul monitor`.
#include <cstdio>

#include "agent/cli/client.h"
#include "agent/cli/commands.h"
#include "common/http/url.h"

namespace cairn::cli {

namespace {

bool print_chunk(std::string_view data) {
  std::fwrite(data.data(), 1, data.size(), stdout);
  std::fflush(stdout);
  return !std::ferror(stdout);  // the reader of a pipe went away
}

}  // namespace

int cmd_monitor(Args args) {
  ApiClient api = ApiClient::from_args(args);
  FlagSet f;
  if (auto e = parse_flags(args, {"log-json"}, {"log-level"}, f); !e.empty()) return fail(e);
  std::string target =
      "/v1/agent/monitor?loglevel=" + http::percent_encode(f.get("log-level", "INFO"));
  if (f.has("log-json")) target += "&logjson";
  http::ClientResponse resp;
  std::string err;
  if (!api.stream(target, print_chunk, resp, err)) return fail("Error starting monitor: " + err);
  if (resp.status != 200)
    return fail("Error starting monitor: Unexpected response code: " + std::to_string(resp.status) +
                " (" + resp.body + ")");
  return 0;
}

}  // namespace cairn::cli
