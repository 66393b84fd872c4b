#include "agent/checks/script_check.h"

#include <doctest/doctest.h>

#include <signal.h>
#include <uv.h>

#include <fstream>
#include <map>

using namespace cairn;
using namespace cairn::checks;

TEST_CASE("TailBuffer keeps the last bytes, as Consul's circbuf") {
  TailBuffer t;
  std::string out;
  t.reset(8);
  t.write("abc", 3);
  t.render(out);
  CHECK(out == "abc");
  t.write("defghij", 7);
  t.render(out);
  CHECK(out == "Captured 8 of 10 bytes\n...\ncdefghij");
  t.write("0123456789", 10);
  t.render(out);
  CHECK(out == "Captured 8 of 20 bytes\n...\n23456789");
  t.write("X", 1);
  t.render(out);
  CHECK(out == "Captured 8 of 21 bytes\n...\n3456789X");
}

TEST_CASE("exit codes, output capture and the process-group kill on timeout") {
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::map<std::string, std::pair<std::string, std::string>> got;
  std::string pidfile = "/tmp/cairn-script-check-test-" + std::to_string(getpid());
  {
    CheckEnv env(&loop);
    env.output_max_size = 16;
    env.sink = [&](const std::string& id, std::string_view status, std::string_view output) {
      got[id] = {std::string(status), std::string(output)};
      if (got.size() == 6) uv_stop(&loop);
    };
    auto def = [](std::vector<std::string> args) {
      state::CheckDefinition d;
      d.args = std::move(args);
      d.interval = kSecond;
      d.timeout = 300 * kMillisecond;
      return d;
    };
    ScriptCheck ok(env, "ok", def({"/bin/sh", "-c", "echo fine"}));
    ScriptCheck warn(env, "warn", def({"/bin/sh", "-c", "echo meh >&2; exit 1"}));
    ScriptCheck crit(env, "crit", def({"/bin/sh", "-c", "exit 2"}));
    ScriptCheck big(env, "big", def({"/bin/sh", "-c", "printf 0123456789abcdefXYZ"}));
    ScriptCheck missing(env, "missing", def({"/nonexistent/check"}));
    ScriptCheck slow(env, "slow",
                     def({"/bin/sh", "-c", "sleep 30 & echo $! > " + pidfile + "; wait"}));
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);

  CHECK(got["ok"] == std::make_pair(std::string("passing"), std::string("fine\n")));
  CHECK(got["warn"] == std::make_pair(std::string("warning"), std::string("meh\n")));
  CHECK(got["crit"].first == "critical");
  CHECK(got["big"].second == "Captured 16 of 19 bytes\n...\n3456789abcdefXYZ");
  CHECK(got["missing"].first == "critical");
  CHECK(got["missing"].second == "fork/exec /nonexistent/check: no such file or directory");
  CHECK(got["slow"].first == "critical");
  CHECK(got["slow"].second == "Timed out (300ms) running check");
  // The background child was in the script's process group: it is gone too.
  std::ifstream in(pidfile);
  int child = 0;
  in >> child;
  REQUIRE(child > 0);
  // Gone, or a zombie waiting for init to reap it: either way no longer running.
  auto running = [](int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string pid_field, comm, state;
    if (!(stat >> pid_field >> comm >> state)) return false;
    return state != "Z" && state != "X";
  };
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = !running(child);
    if (!gone) usleep(10'000);
  }
  CHECK(gone);
  std::remove(pidfile.c_str());
}
