// cairn-gossip-peer: one cairn gossip node behind the CLI and JSON-lines
// contract of tools/memberlist-peer (HashiCorp's memberlist as a test
// peer), so the same cluster.sh drives cairn nodes, Go nodes, or a mix.
//
//   cairn-gossip-peer -name N -bind 127.0.0.1 -port P [-join h:p,...]
//       [-config lan|local|wan] [-key base64] [-mode memberlist|serf]
//       [-tags k=v,...] [-events] [-debug-events] [-leave=false]
//       [-exit-after 900s] [-label L] [-probe-interval 1s] ...
//
// stdout, one JSON object per line: start, join, leave, update, reap, user,
// query, joined / join-failed, members (on SIGUSR1), suspect and
// suspect-timeout (with -debug-events), exit. SIGINT/SIGTERM leave (unless
// -leave=false) and exit; SIGKILL is what failure tests use.
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "agent/gossip/gossip_agent.h"
#include "common/duration.h"
#include "common/json_writer.h"
#include "common/uv_handle.h"

using namespace cairn;
using namespace cairn::gossip;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Options {
  std::string name, bind = "127.0.0.1", advertise, join, config = "lan", key, mode = "memberlist",
                    tags, meta, label;
  int port = 7946;
  bool events = true, debug_events = false, leave = true, compress = true;
  Nanos exit_after = 0, join_retry = 10 * kSecond;
  Nanos probe_interval = 0, probe_timeout = 0, gossip_interval = 0, pushpull_interval = -1;
  int gossip_nodes = 0, suspicion_mult = 0, retransmit_mult = 0, indirect_checks = 0;
  bool go_probe_order = false;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "cairn-gossip-peer: %s\n", why.c_str());
  std::fprintf(stderr,
               "usage: cairn-gossip-peer -name N [-bind A] [-port P] [-join h:p,...] "
               "[-config lan|local|wan] [-key B64] [-mode memberlist|serf] [-tags k=v,...] "
               "[-events] [-debug-events] [-leave=false] [-exit-after D] [-label L]\n");
  std::exit(2);
}

// Go's flag syntax: -f v, -f=v, --f; booleans take =false only.
Options parse(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string*> strs = {
      {"name", &o.name},     {"bind", &o.bind},  {"advertise", &o.advertise}, {"join", &o.join},
      {"config", &o.config}, {"key", &o.key},    {"mode", &o.mode},           {"tags", &o.tags},
      {"meta", &o.meta},     {"label", &o.label}};
  std::map<std::string, bool*> bools = {
      {"events", &o.events},     {"debug-events", &o.debug_events},     {"leave", &o.leave},
      {"compress", &o.compress}, {"go-probe-order", &o.go_probe_order}, {"trace-probes", nullptr}};
  std::map<std::string, Nanos*> durs = {
      {"exit-after", &o.exit_after},           {"join-retry", &o.join_retry},
      {"probe-interval", &o.probe_interval},   {"probe-timeout", &o.probe_timeout},
      {"gossip-interval", &o.gossip_interval}, {"pushpull-interval", &o.pushpull_interval}};
  std::map<std::string, int*> ints = {{"port", &o.port},
                                      {"gossip-nodes", &o.gossip_nodes},
                                      {"suspicion-mult", &o.suspicion_mult},
                                      {"retransmit-mult", &o.retransmit_mult},
                                      {"indirect-checks", &o.indirect_checks}};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() < 2 || a[0] != '-') usage("unexpected argument " + a);
    a.erase(0, a[1] == '-' ? 2 : 1);
    std::string val;
    bool has_val = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      val = a.substr(eq + 1);
      a.resize(eq);
      has_val = true;
    }
    if (auto b = bools.find(a); b != bools.end()) {
      const bool v = !has_val || val == "true" || val == "1";
      if (has_val && !(val == "true" || val == "false" || val == "1" || val == "0"))
        usage("bad boolean for -" + a);
      if (b->second) *b->second = v;
      continue;
    }
    if (!has_val) {
      if (i + 1 >= argc) usage("flag needs an argument: -" + a);
      val = argv[++i];
    }
    if (auto s = strs.find(a); s != strs.end()) {
      *s->second = val;
    } else if (auto d = durs.find(a); d != durs.end()) {
      auto v = parse_duration(val);
      if (!v) usage("bad duration for -" + a + ": " + val);
      *d->second = *v;
    } else if (auto n = ints.find(a); n != ints.end()) {
      try {
        *n->second = std::stoi(val);
      } catch (...) {
        usage("bad number for -" + a);
      }
    } else if (a == "proto" || a == "serf-proto" || a == "log") {
      // accepted for compatibility with memberlist-peer; cairn speaks 2 / 4
    } else {
      usage("unknown flag -" + a);
    }
  }
  if (o.name.empty()) usage("-name is required");
  return o;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    std::string part = s.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.erase(0, 1);
    while (!part.empty() && part.back() == ' ') part.pop_back();
    if (!part.empty()) out.push_back(part);
    start = end + 1;
  }
  return out;
}

// One JSON line: t, event, node first, the rest, self last.
class Emitter {
 public:
  explicit Emitter(std::string self) : self_(std::move(self)) {}
  template <class F>
  void emit(std::string_view event, std::string_view node, F&& extra) {
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.field("t", now_ms());
    w.field("event", event);
    if (!node.empty()) w.field("node", node);
    extra(w);
    w.field("self", self_);
    w.end_object();
    out.push_back('\n');
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  }
  void emit(std::string_view event, std::string_view node) {
    emit(event, node, [](JsonWriter&) {});
  }

 private:
  std::string self_;
};

void write_tags(JsonWriter& w, const Tags& tags) {
  w.key("tags");
  w.begin_object();
  for (const auto& [k, v] : tags) w.field(k, v);
  w.end_object();
}

void write_vsn(JsonWriter& w, const Vsn& v) {
  w.key("vsn");
  w.begin_array();
  for (uint8_t x : v) w.number(int64_t(x));
  w.end_array();
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  const bool serf_mode = o.mode == "serf";
  if (!serf_mode && o.mode != "memberlist") usage("unknown -mode " + o.mode);
  std::setvbuf(stdout, nullptr, _IOFBF, 1 << 16);

  uv_loop_t* loop = uv_default_loop();
  GossipConfig cfg;
  cfg.node_name = o.name;
  cfg.profile = o.config;
  cfg.serf = serf_mode;
  cfg.label = o.label;
  if (!Address::parse(o.bind, uint16_t(o.port), cfg.bind) || o.port <= 0 || o.port > 65535)
    usage("bad -bind/-port");
  cfg.bind.port = uint16_t(o.port);
  if (!o.advertise.empty() && !Address::parse(o.advertise, uint16_t(o.port), cfg.advertise))
    usage("bad -advertise");
  if (!o.key.empty()) cfg.keys.push_back(o.key);
  for (const auto& kv : split(o.tags)) {
    const auto eq = kv.find('=');
    cfg.tags[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }
  if (!serf_mode && !o.meta.empty()) cfg.tags["meta"] = o.meta;
  cfg.tune_memberlist = [&o](MemberlistConfig& m) {
    m.enable_compression = o.compress;
    if (o.probe_interval > 0) m.probe_interval = Duration(o.probe_interval);
    if (o.probe_timeout > 0) m.probe_timeout = Duration(o.probe_timeout);
    if (o.gossip_interval > 0) m.gossip_interval = Duration(o.gossip_interval);
    if (o.gossip_nodes > 0) m.gossip_nodes = o.gossip_nodes;
    if (o.suspicion_mult > 0) m.suspicion_mult = o.suspicion_mult;
    if (o.retransmit_mult > 0) m.retransmit_mult = o.retransmit_mult;
    if (o.indirect_checks > 0) m.indirect_checks = o.indirect_checks;
    if (o.pushpull_interval >= 0) m.push_pull_interval = Duration(o.pushpull_interval);
    if (o.go_probe_order) m.shuffle_first_cycle = false;
  };

  Emitter out(o.name);
  std::string err;
  auto agent = GossipAgent::create(loop, cfg, err);
  if (!agent) {
    std::fprintf(stderr, "cairn-gossip-peer: %s\n", err.c_str());
    return 1;
  }
  if (o.events) {
    agent->set_event_handler([&](const SerfEvent& ev) {
      const char* kind = nullptr;
      switch (ev.kind) {
        case SerfEvent::Kind::member_join:
          kind = "join";
          break;
        case SerfEvent::Kind::member_leave:
        case SerfEvent::Kind::member_failed:
          kind = "leave";
          break;
        case SerfEvent::Kind::member_update:
          kind = "update";
          break;
        case SerfEvent::Kind::member_reap:
          kind = "reap";
          break;
        case SerfEvent::Kind::user:
          out.emit("user", "", [&](JsonWriter& w) {
            w.field("ltime", ev.ltime);
            w.field("name", ev.name);
            w.field("payload", ev.payload);
          });
          return;
        case SerfEvent::Kind::query: {
          out.emit("query", "", [&](JsonWriter& w) {
            w.field("name", ev.name);
            w.field("payload", ev.payload);
          });
          std::string e;
          agent->respond(ev.query_id, o.name, e);
          return;
        }
      }
      out.emit(kind, ev.member.name, [&](JsonWriter& w) {
        w.field("addr", ev.member.addr.str());
        if (serf_mode) {
          w.field("status", member_status_name(ev.member.status));
          if (ev.kind == SerfEvent::Kind::member_update) write_tags(w, ev.member.tags);
        } else if (ev.kind == SerfEvent::Kind::member_update) {
          auto it = ev.member.tags.find("meta");
          w.field("meta_len", int64_t(it == ev.member.tags.end() ? 0 : it->second.size()));
        }
      });
    });
  }
  if (o.debug_events) {
    agent->set_debug_handlers([&](std::string_view node) { out.emit("suspect", node); },
                              [&](std::string_view node, int c) {
                                out.emit("suspect-timeout", node,
                                         [&](JsonWriter& w) { w.field("confirmations", c); });
                              });
  }

  agent->start();
  const MemberlistConfig& mc = agent->memberlist_config();
  out.emit("start", o.name, [&](JsonWriter& w) {
    w.field("addr", agent->address().str());
    w.field("mode", o.mode);
    w.field("config", o.config);
    w.field("pid", int64_t(getpid()));
    w.field("impl", "cairn");
    write_vsn(w, mc.vsn());
    w.key("params");
    w.begin_object();
    auto ms = [](Duration d) {
      return int64_t(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
    };
    w.field("ProbeInterval_ms", ms(mc.probe_interval));
    w.field("ProbeTimeout_ms", ms(mc.probe_timeout));
    w.field("GossipInterval_ms", ms(mc.gossip_interval));
    w.field("GossipNodes", mc.gossip_nodes);
    w.field("SuspicionMult", mc.suspicion_mult);
    w.field("SuspicionMaxMult", mc.suspicion_max_timeout_mult);
    w.field("RetransmitMult", mc.retransmit_mult);
    w.field("IndirectChecks", mc.indirect_checks);
    w.field("PushPull_ms", ms(mc.push_pull_interval));
    w.field("Encrypted", !cfg.keys.empty());
    w.field("Compression", mc.enable_compression);
    w.end_object();
  });

  // Join, retrying every 200 ms while no seed answers, for -join-retry.
  const std::vector<std::string> seeds = split(o.join);
  Timer retry(loop);
  int attempts = 0;
  const auto join_deadline =
      std::chrono::steady_clock::now() + std::chrono::nanoseconds(o.join_retry);
  std::function<void()> try_join = [&] {
    ++attempts;
    agent->join(seeds, [&](int n, const std::string& e) {
      if (n > 0) {
        out.emit("joined", "", [&](JsonWriter& w) {
          w.field("contacted", n);
          w.field("attempts", attempts);
        });
      } else if (std::chrono::steady_clock::now() >= join_deadline) {
        out.emit("join-failed", "", [&](JsonWriter& w) {
          w.field("error", e.empty() ? std::string("no seed answered") : e);
          w.field("attempts", attempts);
        });
      } else {
        retry.start(200, 0, try_join);
      }
    });
  };
  if (!seeds.empty()) try_join();

  auto print_members = [&] {
    auto members = agent->members();
    std::sort(members.begin(), members.end(),
              [](const Member& a, const Member& b) { return a.name < b.name; });
    out.emit("members", "", [&](JsonWriter& w) {
      w.field("count", int64_t(members.size()));
      w.key("members");
      w.begin_array();
      for (const auto& m : members) {
        w.begin_object();
        w.field("name", m.name);
        w.field("addr", m.addr.str());
        w.field("status", member_status_name(m.status));
        write_tags(w, m.tags);
        write_vsn(w, m.vsn);
        Coordinate c;
        if (serf_mode && agent->coordinate_of(m.name, c)) {
          w.key("coord");
          c.write_json(w);
        }
        w.end_object();
      }
      w.end_array();
      w.field("health_score", agent->health_score());
      w.field("incarnation", int64_t(agent->memberlist().incarnation()));
      const auto& s = agent->stats();
      w.key("stats");
      w.begin_object();
      w.field("packets_in", s.packets_in);
      w.field("packets_out", s.packets_out);
      w.field("bytes_in", s.bytes_in);
      w.field("bytes_out", s.bytes_out);
      w.field("stream_bytes_in", s.stream_bytes_in);
      w.field("stream_bytes_out", s.stream_bytes_out);
      w.field("bad_decrypt", s.bad_decrypt);
      w.field("bad_label", s.bad_label);
      w.field("bad_stream", s.bad_stream);
      w.field("bad_message", s.bad_message);
      w.end_object();
    });
  };

  std::string reason;
  bool stopping = false;
  Timer exit_timer(loop);
  auto stop = [&](const std::string& why) {
    if (stopping) return;
    stopping = true;
    reason = why;
    auto finish = [&] {
      agent->shutdown();
      out.emit("exit", o.name, [&](JsonWriter& w) { w.field("reason", reason); });
      uv_stop(loop);
    };
    if (o.leave) {
      agent->leave([finish](bool) { finish(); });
    } else {
      finish();
    }
  };
  SignalWatch usr1(loop, SIGUSR1, print_members);
  SignalWatch sigint(loop, SIGINT, [&] { stop("interrupt"); });
  SignalWatch sigterm(loop, SIGTERM, [&] { stop("terminated"); });
  if (o.exit_after > 0)
    exit_timer.start(uint64_t(o.exit_after / kMillisecond), 0, [&] { stop("exit-after"); });

  uv_run(loop, UV_RUN_DEFAULT);
  agent.reset();
  retry.stop();
  uv_run(loop, UV_RUN_NOWAIT);
  return 0;
}
