#include "agent/checks/critical_reaper.h"

#include <cstdlib>
#include <set>
#include <vector>

#include "agent/state/rows.h"
#include "common/log.h"

namespace cairn::checks {

namespace {

void override_from_env(const char* name, Nanos& value) {
  const char* text = std::getenv(name);
  if (!text || !*text) return;
  if (auto d = parse_duration(text); d && *d > 0) value = *d;
}

}  // namespace

ReaperSettings ReaperSettings::from_environment() {
  ReaperSettings s;
  override_from_env("CAIRN_CHECK_REAP_INTERVAL", s.interval);
  override_from_env("CAIRN_CHECK_DEREGISTER_MIN", s.minimum_timeout);
  return s;
}

CriticalReaper::CriticalReaper(uv_loop_t* loop, ReaperSettings settings, Deregister deregister)
    : loop_(loop), settings_(settings), deregister_(std::move(deregister)), timer_(loop) {}

void CriticalReaper::arm() {
  if (timer_.active() || checks_.empty()) return;
  uint64_t ms = static_cast<uint64_t>(settings_.interval / kMillisecond);
  timer_.start(ms, ms, [this] { reap(uv_now(loop_)); });
  timer_.unref();  // a background duty: it never keeps the loop alive by itself
}

void CriticalReaper::track(const std::string& check_id, const std::string& service_id, Nanos after,
                           std::string_view status) {
  if (after < settings_.minimum_timeout) {
    log::warn("checks", "deregister_critical_service_after below the minimum, using the minimum",
              {{"check", check_id}, {"minimum", format_duration(settings_.minimum_timeout)}});
    after = settings_.minimum_timeout;
  }
  Tracked& t = checks_[check_id];
  t.service_id = service_id;
  t.timeout_ms = static_cast<uint64_t>(after / kMillisecond);
  t.critical = false;
  this->status(check_id, status);
  arm();
}

void CriticalReaper::untrack(const std::string& check_id) {
  checks_.erase(check_id);
  if (checks_.empty()) timer_.stop();
}

void CriticalReaper::clear() {
  checks_.clear();
  timer_.stop();
}

void CriticalReaper::status(const std::string& check_id, std::string_view status) {
  auto it = checks_.find(check_id);
  if (it == checks_.end()) return;
  Tracked& t = it->second;
  if (status != state::kCritical) {
    t.critical = false;
  } else if (!t.critical) {
    t.critical = true;
    t.critical_since_ms = uv_now(loop_);
  }
}

void CriticalReaper::reap(uint64_t now_ms) {
  std::vector<std::pair<std::string, std::string>> doomed;  // service, check
  std::set<std::string> services;
  for (const auto& [id, t] : checks_) {
    if (!t.critical || now_ms - t.critical_since_ms < t.timeout_ms) continue;
    if (services.insert(t.service_id).second) doomed.emplace_back(t.service_id, id);
  }
  // Deregistering stops (and untracks) the service's checks: iterate a copy.
  for (const auto& [service, check] : doomed) {
    log::info("checks", "check critical for too long, deregistering its service",
              {{"check", check}, {"service", service}});
    deregister_(service, check);
  }
}

}  // namespace cairn::checks
