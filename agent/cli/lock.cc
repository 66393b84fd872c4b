// `cairn lock [-n N] PREFIX CMD...`: runs CMD while holding a lock (or one of
// N semaphore slots) under PREFIX, using Consul's documented recipes so it
// interoperates with `consul lock` and the Go api's Lock/Semaphore. A session
// renewer and a lock monitor run beside the child; if the lock is lost the
// child's process group is terminated.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "agent/cli/client.h"
#include "agent/cli/commands.h"
#include "common/base64.h"
#include "common/duration.h"
#include "common/http/url.h"
#include "common/json_writer.h"

namespace cairn::cli {

namespace {

constexpr uint64_t kLockFlag = 0x2ddccbc058a50c18ULL;       // api.LockFlagValue
constexpr uint64_t kSemaphoreFlag = 0xe0f69a2baa414de0ULL;  // api.SemaphoreFlagValue

std::atomic<pid_t> g_child_group{0};
std::atomic<int> g_signal{0};

void forward_signal(int sig) {
  g_signal = sig;
  pid_t g = g_child_group.load();
  if (g > 0) kill(-g, sig);
}

struct Entry {
  bool found = false;
  std::string session;
  std::string value;
  uint64_t modify_index = 0;
  uint64_t flags = 0;
};

class Locker {
 public:
  Locker(ApiClient api, std::string prefix, int limit, bool verbose)
      : api_(std::move(api)), prefix_(std::move(prefix)), limit_(limit), verbose_(verbose) {
    while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  }

  bool create_session(const std::string& name, Nanos ttl, Nanos lock_delay) {
    ttl_ = ttl;
    std::string body;
    JsonWriter w(body);
    w.begin_object();
    w.field("Name", name);
    w.field("TTL", format_duration(ttl));
    w.field("LockDelay", format_duration(lock_delay));
    w.field("Behavior", "release");
    w.end_object();
    http::ClientResponse resp;
    std::string err;
    if (!api_.request("PUT", "/v1/session/create", body, resp, err) || resp.status != 200) {
      fail("Error creating session: " + (err.empty() ? resp.body : err));
      return false;
    }
    Value v;
    ParseError perr;
    if (!parse_json(resp.body, v, perr) || !v.find("id")) {
      fail("Error creating session: unexpected answer " + resp.body);
      return false;
    }
    session_ = v.find("id")->s;
    renewer_ = std::thread([this] { renew_loop(); });
    return true;
  }

  // Blocks until the lock is held; false on timeout or error.
  bool acquire(Nanos timeout) {
    auto deadline = timeout > 0 ? std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout)
                                : std::chrono::steady_clock::time_point::max();
    return limit_ <= 1 ? acquire_lock(deadline) : acquire_semaphore(deadline);
  }

  // Watches the lock while the child runs; sets lost() and signals the child if it goes.
  void start_monitor() {
    monitor_ = std::thread([this] {
      int failures = 0;
      uint64_t index = 0;
      while (!stopping_) {
        Entry e;
        std::string key = limit_ <= 1 ? lock_key() : sem_lock_key();
        if (!get(key, index, "30s", e)) {
          if (++failures > 3) break;
          std::this_thread::sleep_for(std::chrono::seconds(1));
          continue;
        }
        failures = 0;
        index = e.modify_index ? e.modify_index : index;
        bool held = limit_ <= 1 ? (e.found && e.session == session_)
                                : (e.found && holders(e.value).count(session_) > 0);
        if (!held) break;
      }
      if (stopping_) return;
      lost_ = true;
      std::fprintf(stderr, "Lock lost, killing child\n");
      pid_t g = g_child_group.load();
      if (g > 0) kill(-g, SIGTERM);
    });
  }

  bool lost() const { return lost_; }

  void release_and_destroy() {
    stopping_ = true;
    if (monitor_.joinable()) monitor_.detach();  // it exits at its next answer
    if (acquired_) {
      if (limit_ <= 1) {
        http::ClientResponse resp;
        std::string err;
        api_.request("PUT", kv_path(lock_key()) + "?flags=" + std::to_string(kLockFlag) +
                                "&release=" + session_, "", resp, err);
      } else {
        release_semaphore();
      }
    }
    if (!session_.empty()) {
      http::ClientResponse resp;
      std::string err;
      api_.request("PUT", "/v1/session/destroy/" + session_, "", resp, err);
    }
    renew_stop_ = true;
    if (renewer_.joinable()) renewer_.join();
  }

 private:
  std::string lock_key() const { return prefix_ + "/.lock"; }
  std::string sem_lock_key() const { return prefix_ + "/.lock"; }
  std::string contender_key() const { return prefix_ + "/" + session_; }

  void renew_loop() {
    auto period = std::chrono::nanoseconds(ttl_ / 2);
    auto next = std::chrono::steady_clock::now() + period;
    while (!renew_stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (std::chrono::steady_clock::now() < next) continue;
      next = std::chrono::steady_clock::now() + period;
      http::ClientResponse resp;
      std::string err;
      if (api_.request("PUT", "/v1/session/renew/" + session_, "", resp, err) &&
          resp.status == 404) {
        if (verbose_) std::fprintf(stderr, "Session %s was invalidated\n", session_.c_str());
      }
    }
  }

  bool get(const std::string& key, uint64_t index, const std::string& wait, Entry& e) {
    std::string target = kv_path(key);
    if (index) target += "?index=" + std::to_string(index) + "&wait=" + wait;
    http::ClientResponse resp;
    std::string err;
    if (!api_.request("GET", target, "", resp, err, 60'000)) return false;
    if (const std::string* h = resp.header("x-consul-index")) e.modify_index = std::stoull(*h);
    if (resp.status == 404) return true;
    if (resp.status != 200) return false;
    Value v;
    ParseError perr;
    if (!parse_json(resp.body, v, perr) || v.items.empty()) return false;
    const Value& item = v.items[0];
    e.found = true;
    if (const Value* s = item.find("session")) e.session = s->s;
    if (const Value* val = item.find("value"); val && val->kind == Value::Kind::string) {
      std::string text = val->s;
      e.value = base64(text);
    }
    e.flags = num(item.find("flags"));
    e.modify_index = num(item.find("modifyindex"));
    return true;
  }

  static std::string base64(const std::string& text) {
    auto d = base64_decode(text);
    return d ? *d : std::string();
  }

  bool put(const std::string& target, const std::string& body, bool& ok) {
    http::ClientResponse resp;
    std::string err;
    if (!api_.request("PUT", target, body, resp, err) || resp.status != 200) {
      if (!err.empty() || resp.status >= 500) {
        fail("Error writing to the lock: " + (err.empty() ? resp.body : err));
        return false;
      }
    }
    ok = resp.body.find("true") != std::string::npos;
    return true;
  }

  bool acquire_lock(std::chrono::steady_clock::time_point deadline) {
    uint64_t index = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      bool ok = false;
      if (!put(kv_path(lock_key()) + "?flags=" + std::to_string(kLockFlag) + "&acquire=" + session_,
               "", ok))
        return false;
      if (ok) {
        acquired_ = true;
        return true;
      }
      Entry e;
      if (!get(lock_key(), 0, "", e)) return false;
      if (e.found && e.session.empty()) {
        // Unlocked yet refused: the key is in lock-delay. Retry shortly.
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        continue;
      }
      index = e.modify_index;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      std::string wait = left.count() > 60'000 || deadline == std::chrono::steady_clock::time_point::max()
                             ? "60s"
                             : std::to_string(std::max<int64_t>(1, left.count())) + "ms";
      Entry changed;
      get(lock_key(), index, wait, changed);
    }
    return false;
  }

  static std::map<std::string, bool> holders(const std::string& json) {
    std::map<std::string, bool> out;
    Value v;
    ParseError perr;
    if (!parse_json(json, v, perr)) return out;
    if (const Value* h = v.find("holders"))
      for (const auto& [k, val] : h->fields) out[k] = true;
    return out;
  }

  std::string semaphore_json(const std::map<std::string, bool>& hs) const {
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.field("Limit", limit_);
    w.key("Holders");
    w.begin_object();
    for (const auto& [k, v] : hs) w.field(k, v);
    w.end_object();
    w.end_object();
    return out;
  }

  bool acquire_semaphore(std::chrono::steady_clock::time_point deadline) {
    bool ok = false;
    if (!put(kv_path(contender_key()) + "?flags=" + std::to_string(kSemaphoreFlag) +
                 "&acquire=" + session_, "", ok))
      return false;
    if (!ok) {
      fail("Failed to make contender entry");
      return false;
    }
    uint64_t index = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      std::string target = kv_path(prefix_ + "/") + "?recurse";
      if (index) target += "&index=" + std::to_string(index) + "&wait=10s";
      http::ClientResponse resp;
      std::string err;
      if (!api_.request("GET", target, "", resp, err, 60'000)) return false;
      if (const std::string* h = resp.header("x-consul-index")) index = std::stoull(*h);
      Value list;
      ParseError perr;
      if (resp.status == 200) parse_json(resp.body, list, perr);
      std::map<std::string, bool> live;
      Entry lock;
      for (const auto& item : list.items) {
        std::string key = item.find("key") ? item.find("key")->s : "";
        if (key == sem_lock_key()) {
          lock.found = true;
          lock.modify_index = num(item.find("modifyindex"));
          if (const Value* val = item.find("value"); val && val->kind == Value::Kind::string)
            lock.value = base64(val->s);
          continue;
        }
        const Value* s = item.find("session");
        if (s && !s->s.empty()) live[s->s] = true;
      }
      std::map<std::string, bool> hs = lock.found ? holders(lock.value) : std::map<std::string, bool>{};
      if (lock.found) {
        Value v;
        if (parse_json(lock.value, v, perr)) {
          const Value* l = v.find("limit");
          if (l && static_cast<int>(num(l)) != limit_) {
            fail("Semaphore limit conflict (lock: " + std::to_string(num(l)) +
                 ", local: " + std::to_string(limit_) + ")");
            return false;
          }
        }
      }
      for (auto it = hs.begin(); it != hs.end();) it = live.count(it->first) ? std::next(it) : hs.erase(it);
      if (static_cast<int>(hs.size()) >= limit_) continue;  // full: wait for a change
      hs[session_] = true;
      bool won = false;
      if (!put(kv_path(sem_lock_key()) + "?flags=" + std::to_string(kSemaphoreFlag) +
                   "&cas=" + std::to_string(lock.found ? lock.modify_index : 0),
               semaphore_json(hs), won))
        return false;
      if (won) {
        acquired_ = true;
        return true;
      }
      index = 0;  // lost the CAS race: look again at once
    }
    return false;
  }

  void release_semaphore() {
    for (int attempt = 0; attempt < 10; ++attempt) {
      Entry e;
      if (!get(sem_lock_key(), 0, "", e) || !e.found) break;
      auto hs = holders(e.value);
      if (!hs.erase(session_)) break;
      bool ok = false;
      if (!put(kv_path(sem_lock_key()) + "?flags=" + std::to_string(kSemaphoreFlag) + "&cas=" +
                   std::to_string(e.modify_index),
               semaphore_json(hs), ok))
        break;
      if (ok) break;
    }
    http::ClientResponse resp;
    std::string err;
    api_.request("DELETE", kv_path(contender_key()), "", resp, err);
  }

  ApiClient api_;
  std::string prefix_;
  int limit_;
  bool verbose_;
  Nanos ttl_ = 15 * kSecond;
  std::string session_;
  bool acquired_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> renew_stop_{false};
  std::atomic<bool> lost_{false};
  std::thread renewer_;
  std::thread monitor_;
};

}  // namespace

int cmd_lock(Args args) {
  ApiClient api = ApiClient::from_args(args);
  FlagSet f;
  if (auto e = parse_flags(args, {"child-exit-code", "verbose", "pass-stdin"},
                           {"n", "name", "timeout", "shell", "try", "monitor-retry", "session-ttl",
                            "lock-delay"},
                           f);
      !e.empty())
    return fail(e);
  if (f.positional.size() < 2) return fail("Usage: cairn lock [options] PREFIX CMD [ARGS...]");
  std::string prefix = f.positional[0];
  std::vector<std::string> cmd(f.positional.begin() + 1, f.positional.end());
  int limit = std::atoi(f.get("n", "1").c_str());
  if (limit < 1) return fail("Lock holder limit must be positive");
  Nanos timeout = 0;
  if (f.has("timeout")) {
    auto t = parse_duration(f.get("timeout"));
    if (!t) return fail("Invalid -timeout: " + f.get("timeout"));
    timeout = *t;
  }
  if (f.has("try")) {
    auto t = parse_duration(f.get("try"));
    if (!t) return fail("Invalid -try: " + f.get("try"));
    timeout = *t;
  }
  auto ttl = parse_duration(f.get("session-ttl", "15s"));
  auto delay = parse_duration(f.get("lock-delay", "15s"));
  if (!ttl || !delay) return fail("Invalid -session-ttl or -lock-delay");
  bool shell = f.get("shell", "true") != "false";
  bool verbose = f.has("verbose");

  Locker locker(api, prefix, limit, verbose);
  std::string name = f.get("name", limit > 1 ? "Consul semaphore for \"" + prefix + "\""
                                             : "Consul lock for \"" + prefix + "\"");
  if (!locker.create_session(name, *ttl, *delay)) return 1;

  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);

  if (!locker.acquire(timeout)) {
    locker.release_and_destroy();
    return fail(g_signal ? "Interrupted while waiting for the lock"
                         : "Lock acquisition failed: timed out waiting for the lock");
  }
  if (g_signal) {
    locker.release_and_destroy();
    return 1;
  }
  if (verbose) std::fprintf(stderr, "Lock acquisition succeeded\n");

  pid_t child = fork();
  if (child == 0) {
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    if (shell) {
      std::string line;
      for (const auto& a : cmd) line += (line.empty() ? "" : " ") + a;
      execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    } else {
      std::vector<char*> argv;
      for (auto& a : cmd) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp(argv[0], argv.data());
    }
    std::perror("exec");
    _exit(127);
  }
  if (child < 0) {
    locker.release_and_destroy();
    return fail("Error starting the child: fork failed");
  }
  setpgid(child, child);
  g_child_group = child;
  locker.start_monitor();
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  g_child_group = 0;
  bool lost = locker.lost();
  locker.release_and_destroy();
  if (lost) return fail("Lock was lost while the child ran");
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (verbose) std::fprintf(stderr, "Child exited with code %d\n", code);
  if (code != 0 && f.has("child-exit-code")) return 2;
  return 0;
}

}  // namespace cairn::cli
