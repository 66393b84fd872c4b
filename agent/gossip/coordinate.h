// Vivaldi network coordinates as hashicorp/serf/coordinate computes them:
// an 8-dimensional position plus a height (the access link) and an
// adjustment, updated from probe round trips, so any two nodes can estimate
// their RTT without having measured it. All quantities are in seconds.
#pragma once

#include <array>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/gossip/msgpack_codec.h"
#include "agent/gossip/rng.h"
#include "agent/gossip/types.h"

namespace cairn {
class JsonWriter;
}

namespace cairn::gossip {

struct CoordinateConfig {
  size_t dimensionality = 8;
  double vivaldi_error_max = 1.5;
  double vivaldi_ce = 0.25;
  double vivaldi_cc = 0.25;
  size_t adjustment_window_size = 20;
  double height_min = 10.0e-6;
  size_t latency_filter_size = 3;
  double gravity_rho = 150.0;
};

struct Coordinate {
  std::vector<double> vec;
  double error = 0;
  double adjustment = 0;
  double height = 0;

  static Coordinate fresh(const CoordinateConfig& c) {
    return Coordinate{std::vector<double>(c.dimensionality, 0.0), c.vivaldi_error_max, 0.0,
                      c.height_min};
  }
  bool valid() const;
  bool compatible(const Coordinate& o) const { return vec.size() == o.vec.size(); }
  // Estimated RTT in seconds, truncated to whole nanoseconds as Go's
  // time.Duration does.
  double distance_to(const Coordinate& o) const;
  Duration distance(const Coordinate& o) const;
  double raw_distance_to(const Coordinate& o) const;

  // msgpack map {Adjustment, Error, Height, Vec}, as Serf's ping payload.
  void encode(std::string& out) const;
  // JSON object {Vec, Error, Adjustment, Height}, as Consul's API shows it.
  void write_json(JsonWriter& w) const;
  bool decode(Bytes data, size_t& off, MsgpackReader& r);
};

class VivaldiClient {
 public:
  explicit VivaldiClient(CoordinateConfig cfg = {}, uint64_t seed = 1);
  const Coordinate& coordinate() const { return coord_; }
  void set_coordinate(Coordinate c) { coord_ = std::move(c); }
  // Folds in one RTT sample to `node` whose coordinate is `other`. Returns
  // false (and changes nothing) for invalid input or rtt outside (0, 10 s].
  bool update(const std::string& node, const Coordinate& other, Duration rtt);
  void forget(const std::string& node) { latency_.erase(node); }
  uint64_t resets() const { return resets_; }

 private:
  double latency_filter(const std::string& node, double rtt_seconds);
  void update_vivaldi(const Coordinate& other, double rtt);
  void update_adjustment(const Coordinate& other, double rtt);
  void update_gravity();
  Coordinate apply_force(const Coordinate& c, double force, const Coordinate& other);

  CoordinateConfig cfg_;
  Coordinate coord_;
  Coordinate origin_;
  std::vector<double> adjustment_samples_;
  size_t adjustment_index_ = 0;
  std::unordered_map<std::string, std::deque<double>> latency_;
  Rng rng_;
  uint64_t resets_ = 0;
};

}  // namespace cairn::gossip
