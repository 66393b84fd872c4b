#include "agent/gossip/coordinate.h"

#include "common/json_writer.h"

#include <algorithm>
#include <cmath>

namespace cairn::gossip {

namespace {
constexpr double kZeroThreshold = 1.0e-6;
// Serf rejects samples above this as measurement errors.
constexpr double kMaxRtt = 10.0;

double magnitude(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}
}  // namespace

bool Coordinate::valid() const {
  for (double x : vec)
    if (!std::isfinite(x)) return false;
  return std::isfinite(error) && std::isfinite(adjustment) && std::isfinite(height);
}

double Coordinate::raw_distance_to(const Coordinate& o) const {
  double s = 0;
  for (size_t i = 0; i < vec.size() && i < o.vec.size(); ++i) {
    const double d = vec[i] - o.vec[i];
    s += d * d;
  }
  return std::sqrt(s) + height + o.height;
}

double Coordinate::distance_to(const Coordinate& o) const {
  const double raw = raw_distance_to(o);
  const double adjusted = raw + adjustment + o.adjustment;
  return adjusted > 0.0 ? adjusted : raw;
}

Duration Coordinate::distance(const Coordinate& o) const {
  return Duration(int64_t(distance_to(o) * 1.0e9));
}

void Coordinate::write_json(JsonWriter& w) const {
  w.begin_object();
  w.key("Vec");
  w.begin_array();
  for (double x : vec) w.number(x);
  w.end_array();
  w.field("Error", error);
  w.field("Adjustment", adjustment);
  w.field("Height", height);
  w.end_object();
}

void Coordinate::encode(std::string& out) const {
  MsgpackWriter w(out);
  w.map(4);
  w.str("Adjustment"), w.f64(adjustment);
  w.str("Error"), w.f64(error);
  w.str("Height"), w.f64(height);
  w.str("Vec"), w.array(uint32_t(vec.size()));
  for (double x : vec) w.f64(x);
}

bool Coordinate::decode(Bytes data, size_t& off, MsgpackReader& r) {
  const msgpack::object* o = r.next(data, off);
  if (o == nullptr || o->type != msgpack::type::MAP) return false;
  for (uint32_t i = 0; i < o->via.map.size; ++i) {
    const auto& kv = o->via.map.ptr[i];
    std::string_view k;
    if (!mp_key(kv.key, k)) return false;
    if (k == "Adjustment") {
      if (!mp_f64(kv.val, adjustment)) return false;
    } else if (k == "Error") {
      if (!mp_f64(kv.val, error)) return false;
    } else if (k == "Height") {
      if (!mp_f64(kv.val, height)) return false;
    } else if (k == "Vec") {
      if (kv.val.type == msgpack::type::NIL) {
        vec.clear();
        continue;
      }
      if (kv.val.type != msgpack::type::ARRAY || kv.val.via.array.size > 64) return false;
      vec.resize(kv.val.via.array.size);
      for (uint32_t j = 0; j < kv.val.via.array.size; ++j)
        if (!mp_f64(kv.val.via.array.ptr[j], vec[j])) return false;
    }
  }
  return true;
}

VivaldiClient::VivaldiClient(CoordinateConfig cfg, uint64_t seed)
    : cfg_(cfg),
      coord_(Coordinate::fresh(cfg)),
      origin_(Coordinate::fresh(cfg)),
      adjustment_samples_(cfg.adjustment_window_size, 0.0),
      rng_(seed) {}

double VivaldiClient::latency_filter(const std::string& node, double rtt) {
  auto& samples = latency_[node];
  samples.push_back(rtt);
  while (samples.size() > cfg_.latency_filter_size) samples.pop_front();
  std::vector<double> sorted(samples.begin(), samples.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted[sorted.size() / 2];
}

Coordinate VivaldiClient::apply_force(const Coordinate& c, double force, const Coordinate& other) {
  Coordinate ret = c;
  std::vector<double> diff(c.vec.size());
  for (size_t i = 0; i < diff.size(); ++i) diff[i] = c.vec[i] - other.vec[i];
  double mag = magnitude(diff);
  std::vector<double> unit(diff.size(), 0.0);
  if (mag > kZeroThreshold) {
    for (size_t i = 0; i < diff.size(); ++i) unit[i] = diff[i] / mag;
  } else {
    // Coincident points push apart in a random direction (serf unitVectorAt).
    for (auto& u : unit) u = rng_.unit() - 0.5;
    const double m = magnitude(unit);
    if (m > kZeroThreshold) {
      for (auto& u : unit) u /= m;
    } else {
      std::fill(unit.begin(), unit.end(), 0.0);
      if (!unit.empty()) unit[0] = 1.0;
    }
    mag = 0.0;
  }
  for (size_t i = 0; i < ret.vec.size(); ++i) ret.vec[i] += unit[i] * force;
  if (mag > kZeroThreshold) {
    ret.height = (ret.height + other.height) * force / mag + ret.height;
    ret.height = std::max(ret.height, cfg_.height_min);
  }
  return ret;
}

// Serf works with DistanceTo() as a time.Duration: whole nanoseconds.
static double truncated_seconds(const Coordinate& a, const Coordinate& b) {
  return double(a.distance(b).count()) / 1.0e9;
}

void VivaldiClient::update_vivaldi(const Coordinate& other, double rtt) {
  const double dist = truncated_seconds(coord_, other);
  rtt = std::max(rtt, kZeroThreshold);
  const double wrongness = std::fabs(dist - rtt) / rtt;
  const double total = std::max(coord_.error + other.error, kZeroThreshold);
  const double weight = coord_.error / total;
  coord_.error =
      cfg_.vivaldi_ce * weight * wrongness + coord_.error * (1.0 - cfg_.vivaldi_ce * weight);
  coord_.error = std::min(coord_.error, cfg_.vivaldi_error_max);
  const double force = cfg_.vivaldi_cc * weight * (rtt - dist);
  coord_ = apply_force(coord_, force, other);
}

void VivaldiClient::update_adjustment(const Coordinate& other, double rtt) {
  if (cfg_.adjustment_window_size == 0) return;
  adjustment_samples_[adjustment_index_] = rtt - coord_.raw_distance_to(other);
  adjustment_index_ = (adjustment_index_ + 1) % cfg_.adjustment_window_size;
  double sum = 0;
  for (double s : adjustment_samples_) sum += s;
  coord_.adjustment = sum / (2.0 * double(cfg_.adjustment_window_size));
}

void VivaldiClient::update_gravity() {
  const double dist = truncated_seconds(origin_, coord_);
  const double force = -1.0 * std::pow(dist / cfg_.gravity_rho, 2.0);
  coord_ = apply_force(coord_, force, origin_);
}

bool VivaldiClient::update(const std::string& node, const Coordinate& other, Duration rtt) {
  if (!other.valid() || !coord_.compatible(other)) return false;
  const double secs = std::chrono::duration<double>(rtt).count();
  if (secs < 0 || secs > kMaxRtt) return false;
  const double filtered = latency_filter(node, secs);
  update_vivaldi(other, filtered);
  update_adjustment(other, filtered);
  update_gravity();
  if (!coord_.valid()) {
    ++resets_;
    coord_ = Coordinate::fresh(cfg_);
  }
  return true;
}

}  // namespace cairn::gossip
