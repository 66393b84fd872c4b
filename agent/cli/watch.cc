// `cairn watch -type T ... [HANDLER]`: blocking-query watches as consul watch
// runs them. With a handler, the handler runs with the JSON result on stdin
// every time the result changes; without one, the result is printed once.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "agent/cli/client.h"
#include "agent/cli/commands.h"
#include "common/http/url.h"

namespace cairn::cli {

namespace {

// Runs handler (through sh -c) with data on its stdin; returns its exit status.
int run_handler(const std::string& handler, const std::string& data) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[0], STDIN_FILENO);
    close(pipefd[0]);
    close(pipefd[1]);
    execl("/bin/sh", "sh", "-c", handler.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(pipefd[0]);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(pipefd[1], data.data() + off, data.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  close(pipefd[1]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

int cmd_watch(Args args) {
  ApiClient api = ApiClient::from_args(args);
  FlagSet f;
  if (auto e = parse_flags(args, {"passingonly", "shell"},
                           {"type", "key", "prefix", "service", "tag", "state", "name", "datacenter",
                            "stale"},
                           f);
      !e.empty())
    return fail(e);
  std::string type = f.get("type");
  std::string path;
  std::string q;
  if (f.has("datacenter")) q += "dc=" + f.get("datacenter") + "&";
  if (type == "key") {
    if (!f.has("key")) return fail("Must specify a single key to watch");
    path = "/v1/kv/" + http::percent_encode(f.get("key"), true);
  } else if (type == "keyprefix") {
    if (!f.has("prefix")) return fail("Must specify a single prefix to watch");
    path = "/v1/kv/" + http::percent_encode(f.get("prefix"), true);
    q += "recurse&";
  } else if (type == "services") {
    path = "/v1/catalog/services";
  } else if (type == "nodes") {
    path = "/v1/catalog/nodes";
  } else if (type == "service") {
    if (!f.has("service")) return fail("Must specify a single service to watch");
    path = "/v1/health/service/" + http::percent_encode(f.get("service"));
    for (const auto& t : f.all("tag")) q += "tag=" + http::percent_encode(t) + "&";
    if (f.has("passingonly")) q += "passing&";
  } else if (type == "checks") {
    if (f.has("service"))
      path = "/v1/health/checks/" + http::percent_encode(f.get("service"));
    else
      path = "/v1/health/state/" + f.get("state", "any");
  } else if (type == "event") {
    path = "/v1/event/list";
    if (f.has("name")) q += "name=" + http::percent_encode(f.get("name")) + "&";
  } else {
    return fail("Unsupported watch type: \"" + type +
                "\" (key, keyprefix, services, nodes, service, checks, event)");
  }
  std::string handler;
  for (const auto& p : f.positional) handler += (handler.empty() ? "" : " ") + p;

  uint64_t index = 0;
  std::string last_body;
  bool first = true;
  for (;;) {
    std::string target = path + "?" + q;
    if (index) target += "index=" + std::to_string(index) + "&wait=5m";
    http::ClientResponse resp;
    std::string err;
    if (!api.request("GET", target, "", resp, err, 6 * 60 * 1000)) {
      std::fprintf(stderr, "Watch error: %s; retrying\n", err.c_str());
      std::this_thread::sleep_for(std::chrono::seconds(5));
      continue;
    }
    uint64_t new_index = 0;
    if (const std::string* h = resp.header("x-consul-index")) new_index = std::stoull(*h);
    // Consul's rule: an index that goes backwards resets the watch.
    if (new_index < index) new_index = 0;
    std::string body = resp.status == 404 ? "null" : resp.body;
    if (resp.status != 200 && resp.status != 404) {
      std::fprintf(stderr, "Watch error: %d %s; retrying\n", resp.status, resp.body.c_str());
      std::this_thread::sleep_for(std::chrono::seconds(5));
      continue;
    }
    bool changed = first || (new_index != index && body != last_body);
    index = new_index;
    if (!changed) continue;
    first = false;
    last_body = body;
    if (handler.empty()) {
      std::printf("%s\n", body.c_str());
      return 0;
    }
    int rc = run_handler(handler, body);
    if (rc != 0) std::fprintf(stderr, "Watch handler exited with %d\n", rc);
    // Rate limit as Consul advises: never spin faster than the handler allows.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace cairn::cli
