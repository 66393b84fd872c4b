// gossip_sim: the SWIM/Lifeguard core at fleet scale, in virtual time.
//
// Runs N memberlist nodes (the agent's code, unchanged) on a simulated
// network with loss and random extra delay, and prints, per run:
//   join convergence   bulk start (N <= --bulk-max): from the first start until
//                      every node sees every other; and late joins into the
//                      settled fleet: until every node sees the newcomer
//   detection          per survivor, kill -> its "dead" event, p50/p99/max,
//                      beside SWIM/Lifeguard theory for the same config
//   false positives    live, reachable nodes ever declared dead (and the
//                      number of failed probes of live nodes: suspicions)
//   bandwidth          bytes sent per node per second, steady state
//   partition          10% of the fleet cut off for --partition-secs, then
//                      healed; time until everyone sees everyone again
//                      (Serf's reconnect rule is emulated: memberlist alone
//                      never contacts members it declared dead)
//
// Fleets larger than --bulk-max start from a converged state (every member
// list pre-filled), since a 10,000-node simultaneous start is a join storm
// of 10^9 messages, not the steady state these numbers describe.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "agent/gossip/formulas.h"
#include "agent/gossip/sim/sim_fleet.h"

using namespace cairn::gossip;
using namespace cairn::gossip::sim;

namespace {

struct Options {
  size_t nodes = 1000;
  double loss = 0.0;
  std::string profile = "lan";
  uint64_t seed = 1;
  size_t bulk_max = 2000;
  int victims = 3;
  int late_joins = 3;
  int partition_secs = 40;
  bool partition = true;
  Duration jitter = 1ms;
};

double secs(Duration d) {
  return std::chrono::duration<double>(d).count();
}

// One bit per (observer, subject): does the observer currently see the
// subject alive? 12.5 MB for 10,000 nodes.
class ViewMatrix {
 public:
  explicit ViewMatrix(size_t n) : words_((n + 63) / 64), bits_(n * words_, 0) {}
  void set(size_t o, size_t s, bool v) {
    uint64_t& w = bits_[o * words_ + s / 64];
    const uint64_t m = uint64_t{1} << (s % 64);
    w = v ? (w | m) : (w & ~m);
  }
  bool get(size_t o, size_t s) const { return bits_[o * words_ + s / 64] >> (s % 64) & 1; }
  // How many subjects in mask the observer sees alive.
  size_t count(size_t o, const std::vector<uint64_t>& mask) const {
    size_t c = 0;
    for (size_t w = 0; w < words_; ++w)
      c += size_t(__builtin_popcountll(bits_[o * words_ + w] & mask[w]));
    return c;
  }
  size_t words() const { return words_; }

 private:
  size_t words_;
  std::vector<uint64_t> bits_;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5));
  return v[i];
}

class Run {
 public:
  Run(const Options& o, MemberlistConfig cfg)
      : o_(o),
        cfg_(cfg),
        total_(o.nodes + size_t(o.late_joins)),
        fleet_(total_, cfg, SimNetConfig{o.loss, 200us, o.jitter, 1s}, o.seed),
        view_(total_),
        known_(total_),
        live_(total_, false),
        group_(total_, 0),
        rng_(o.seed * 7 + 1) {
    fleet_.set_observer([this](size_t obs, EventKind k, int subj, NodeStatus) {
      if (subj < 0) return;
      const size_t s = size_t(subj);
      const Time now = fleet_.world().now();
      if (k == EventKind::join) {
        view_.set(obs, s, true);
        known_.set(obs, s, true);
      } else if (k == EventKind::leave) {
        view_.set(obs, s, false);
        if (s == obs) return;
        if (!live_[s]) {
          if (kill_time_[s] > Time{} && obs < o_.nodes && !detected_.get(obs, s)) {
            detected_.set(obs, s, true);
            detect_ms_.push_back(secs(now - kill_time_[s]) * 1000);
          }
        } else if (in_partition_ && (group_[s] != group_[obs] || healed_)) {
          ++partition_deaths_;  // unreachable, or the aftermath spreading
        } else {
          ++false_positives_;
        }
      } else if (k == EventKind::probe_failed) {
        if (live_[s] && group_[s] == group_[obs]) ++false_suspicions_;
      }
    });
  }

  void execute() {
    const auto wall0 = std::chrono::steady_clock::now();
    join_phase();
    steady_phase();
    detect_phase();
    late_join_phase();
    if (o_.partition) partition_phase();
    wall_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    report();
  }

 private:
  std::vector<uint64_t> live_mask() const {
    std::vector<uint64_t> m(view_.words(), 0);
    for (size_t i = 0; i < total_; ++i)
      if (live_[i]) m[i / 64] |= uint64_t{1} << (i % 64);
    return m;
  }
  bool all_see_all() const {
    const auto mask = live_mask();
    const size_t n = size_t(std::count(live_.begin(), live_.end(), true));
    for (size_t i = 0; i < total_; ++i)
      if (live_[i] && view_.count(i, mask) != n) return false;
    return true;
  }
  // Runs until pred() or the deadline; checks every `step`.
  template <class Pred>
  bool run_until(Pred pred, Duration limit, Duration step = 100ms) {
    const Time end = fleet_.world().now() + limit;
    while (fleet_.world().now() < end) {
      fleet_.run_for(step);
      if (pred()) return true;
    }
    return false;
  }

  void start(size_t i, std::vector<size_t> seeds) {
    live_[i] = true;
    fleet_.start(i, seeds);
  }

  void join_phase() {
    const Time t0 = fleet_.world().now();
    if (o_.nodes <= o_.bulk_max) {
      // cluster.sh style: a seed, then everyone else joins it within ~1 s.
      start(0, {});
      for (size_t i = 1; i < o_.nodes; ++i) {
        fleet_.world().schedule_at(t0 + Duration(rng_.below(1'000'000'000)),
                                   [this, i] { start(i, {0}); });
      }
      converged_ = run_until([this] { return all_see_all(); }, 300s, 50ms);
      bulk_conv_s_ = secs(fleet_.world().now() - t0);
      bulk_ = true;
    } else {
      for (size_t i = 0; i < o_.nodes; ++i) start(i, {});
      fleet_.seed_converged();
      for (size_t i = 0; i < o_.nodes; ++i)
        for (size_t j = 0; j < o_.nodes; ++j) {
          view_.set(i, j, true);
          known_.set(i, j, true);
        }
      converged_ = true;
    }
  }

  void steady_phase() {
    // Settle, then measure. After a bulk start every node's push/pulls run
    // on a common schedule, so the window is one whole (scaled) push/pull
    // interval; a pre-converged fleet has them spread uniformly, so any
    // 30 s window is a fair sample.
    fleet_.run_for(bulk_ ? cfg_.push_pull_interval : cfg_.probe_interval * 5);
    const Duration window =
        bulk_ ? push_pull_scale(cfg_.push_pull_interval, int(o_.nodes)) : Duration(30s);
    uint64_t before = 0, after = 0;
    for (size_t i = 0; i < o_.nodes; ++i)
      before += fleet_.net().traffic(fleet_.address(i)).bytes_out;
    fleet_.run_for(window);
    for (size_t i = 0; i < o_.nodes; ++i)
      after += fleet_.net().traffic(fleet_.address(i)).bytes_out;
    bytes_per_node_s_ = double(after - before) / double(o_.nodes) / secs(window);
  }

  void detect_phase() {
    kill_time_.assign(total_, Time{});
    detected_ = ViewMatrix(total_);
    std::vector<size_t> victims;
    for (int v = 0; v < o_.victims; ++v) {
      size_t i;
      do i = 1 + rng_.below(o_.nodes - 1);
      while (!live_[i]);
      victims.push_back(i);
      live_[i] = false;
      kill_time_[i] = fleet_.world().now();
      fleet_.kill(i);
      fleet_.run_for(7s);  // kills spread out: independent samples
    }
    const size_t survivors = size_t(std::count(live_.begin(), live_.end(), true));
    const size_t want = survivors * victims.size();
    detected_all_ = run_until([&] { return detect_ms_.size() >= want; }, 180s, 250ms);
    detections_ = detect_ms_.size();
    expected_detections_ = want;
  }

  void late_join_phase() {
    for (int j = 0; j < o_.late_joins; ++j) {
      const size_t idx = o_.nodes + size_t(j);
      size_t seed;
      do seed = rng_.below(o_.nodes);
      while (!live_[seed]);
      const Time t0 = fleet_.world().now();
      start(idx, {seed});
      const bool ok = run_until(
          [&] {
            for (size_t i = 0; i < total_; ++i)
              if (live_[i] && !view_.get(i, idx)) return false;
            return true;
          },
          120s, 20ms);
      late_join_ms_.push_back(ok ? secs(fleet_.world().now() - t0) * 1000 : NAN);
      fleet_.run_for(2s);
    }
  }

  // Serf's reconnect: every 30 s a node picks a failed member with
  // probability failed/alive and tries a push/pull join to it.
  void reconnect_tick() {
    for (size_t i = 0; i < total_; ++i) {
      if (!live_[i]) continue;
      size_t failed = 0, alive = 0;
      for (size_t s = 0; s < total_; ++s) {
        if (!known_.get(i, s)) continue;
        view_.get(i, s) ? ++alive : ++failed;
      }
      if (failed == 0 || rng_.unit() > double(failed) / double(std::max<size_t>(alive, 1)))
        continue;
      size_t pick = rng_.below(failed);
      for (size_t s = 0; s < total_; ++s) {
        if (!known_.get(i, s) || view_.get(i, s)) continue;
        if (pick-- == 0) {
          fleet_.node(i)->join({fleet_.address(s)}, [](int, const std::string&) {});
          break;
        }
      }
    }
  }

  void partition_phase() {
    // Cut off 10% of the live fleet (a rack, an AZ link).
    std::vector<size_t> cut;
    for (size_t i = 0; i < total_; ++i)
      if (live_[i] && rng_.unit() < 0.10) cut.push_back(i);
    for (size_t i : cut) {
      group_[i] = 1;
      fleet_.net().set_group(fleet_.address(i), 1);
    }
    in_partition_ = true;
    const Time t0 = fleet_.world().now();
    Time next_reconnect = t0 + 30s;
    fleet_.run_for(std::chrono::seconds(o_.partition_secs));
    fleet_.net().heal();
    healed_ = true;
    const Time healed = fleet_.world().now();
    partition_cut_ = cut.size();
    healed_ok_ = run_until(
        [&] {
          while (fleet_.world().now() >= next_reconnect) {
            reconnect_tick();
            next_reconnect += 30s;
          }
          return all_see_all();
        },
        300s, 250ms);
    heal_s_ = secs(fleet_.world().now() - healed);
  }

  void report() {
    const int n = int(o_.nodes);
    const double I = secs(cfg_.probe_interval);
    const Duration min = suspicion_timeout(cfg_.suspicion_mult, n, cfg_.probe_interval);
    // First probe of the victim ~ (n-1)/n x I, the probe takes I, then the
    // suspicion timer runs its minimum once k confirmations arrive.
    const double theory_detect = (double(n - 1) / n) * I + I + secs(min);
    // Bytes out per node per second, uncompressed upper bound: one ping
    // and one ack per probe interval, plus a push/pull each way per
    // scaled interval (~75 bytes per member entry).
    const double pp_interval = secs(push_pull_scale(cfg_.push_pull_interval, n));
    const double theory_bw = (75.0 + 20.0) / I + 2.0 * (80.0 + 75.0 * n) / pp_interval;
    std::printf(
        "{\"nodes\":%d,\"profile\":\"%s\",\"loss\":%.2f,\"seed\":%llu,"
        "\"bulk_join\":%s,\"join_conv_s\":%s,\"late_join_ms\":[%s],"
        "\"detect_ms_p50\":%.0f,\"detect_ms_p99\":%.0f,\"detect_ms_max\":%.0f,\"detections\":\"%zu/"
        "%zu\","
        "\"theory_detect_ms\":%.0f,\"suspicion_min_ms\":%.0f,"
        "\"false_positives\":%llu,\"false_suspicions\":%llu,"
        "\"bytes_per_node_s\":%.0f,\"theory_bytes_per_node_s\":%.0f,"
        "\"partition_cut\":%zu,\"partition_deaths\":%llu,\"heal_s\":%s,"
        "\"virtual_s\":%.0f,\"wall_s\":%.1f,\"events\":%llu}\n",
        n, o_.profile.c_str(), o_.loss, (unsigned long long)o_.seed, bulk_ ? "true" : "false",
        bulk_ ? (converged_ ? std::to_string(bulk_conv_s_).c_str() : "null") : "null",
        join_list().c_str(), percentile(detect_ms_, 0.5), percentile(detect_ms_, 0.99),
        percentile(detect_ms_, 1.0), detections_, expected_detections_, theory_detect * 1000,
        secs(min) * 1000, (unsigned long long)false_positives_,
        (unsigned long long)false_suspicions_, bytes_per_node_s_, theory_bw, partition_cut_,
        (unsigned long long)partition_deaths_,
        o_.partition ? (healed_ok_ ? std::to_string(heal_s_).c_str() : "null") : "null",
        secs(fleet_.world().now()), wall_s_, (unsigned long long)fleet_.world().events_run());
    std::fflush(stdout);
  }

  std::string join_list() const {
    std::string s;
    for (double v : late_join_ms_) {
      if (!s.empty()) s += ",";
      s += std::isnan(v) ? "null" : std::to_string(int(v));
    }
    return s;
  }

  Options o_;
  MemberlistConfig cfg_;
  size_t total_;
  SimFleet fleet_;
  ViewMatrix view_, known_;
  ViewMatrix detected_{1};
  std::vector<bool> live_;
  std::vector<int> group_;
  std::vector<Time> kill_time_;
  Rng rng_;
  std::vector<double> detect_ms_, late_join_ms_;
  uint64_t false_positives_ = 0, false_suspicions_ = 0, partition_deaths_ = 0;
  size_t detections_ = 0, expected_detections_ = 0, partition_cut_ = 0;
  bool bulk_ = false, converged_ = false, detected_all_ = false, healed_ok_ = false;
  bool in_partition_ = false, healed_ = false;
  double bulk_conv_s_ = 0, bytes_per_node_s_ = 0, heal_s_ = 0, wall_s_ = 0;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: gossip_sim [--nodes N] [--loss P] [--profile lan|local|wan] [--seed S]\n"
               "                  [--victims K] [--late-joins J] [--bulk-max N]\n"
               "                  [--partition-secs S] [--no-partition] [--jitter-ms M]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--nodes")
      o.nodes = std::stoul(next());
    else if (a == "--loss")
      o.loss = std::stod(next());
    else if (a == "--profile")
      o.profile = next();
    else if (a == "--seed")
      o.seed = std::stoull(next());
    else if (a == "--victims")
      o.victims = std::stoi(next());
    else if (a == "--late-joins")
      o.late_joins = std::stoi(next());
    else if (a == "--bulk-max")
      o.bulk_max = std::stoul(next());
    else if (a == "--partition-secs")
      o.partition_secs = std::stoi(next());
    else if (a == "--no-partition")
      o.partition = false;
    else if (a == "--jitter-ms")
      o.jitter = std::chrono::microseconds(int64_t(std::stod(next()) * 1000));
    else
      usage();
  }
  if (o.nodes < 4) usage();
  MemberlistConfig cfg;
  if (!MemberlistConfig::profile(o.profile, cfg)) usage();
  Run run(o, cfg);
  run.execute();
  return 0;
}
