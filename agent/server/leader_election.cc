#include "agent/server/leader_election.h"

#include "agent/etcd/gateway_decode.h"
#include "agent/etcd/gateway_encode.h"
#include "common/log.h"

namespace cairn::server {

namespace {

constexpr uint64_t kCallTimeoutMs = 3000;

}  // namespace

LeaderElection::LeaderElection(uv_loop_t* loop, etcd::GatewayClient& client, std::string value,
                               Events events)
    : loop_(loop),
      client_(client),
      value_(std::move(value)),
      events_(std::move(events)),
      renew_timer_(loop),
      retry_timer_(loop) {}

LeaderElection::~LeaderElection() {
  *alive_ = false;
}

void LeaderElection::start() {
  if (running_) return;
  running_ = true;
  grant_lease();
}

void LeaderElection::grant_lease() {
  std::string body;
  etcd::encode_lease_grant(body, kLeaseTtlSeconds, 0);
  client_.call("/v3/lease/grant", std::move(body), kCallTimeoutMs,
               [this, alive = alive_](etcd::CallResult r) {
                 if (!*alive || !running_) return;
                 etcd::LeaseGrantResponse grant;
                 if (!r.ok() || !etcd::decode_lease_grant(r.body, grant).ok() || grant.id == 0) {
                   log::warn("server", "cannot get a lease for the leader election; retrying",
                             {{"error", r.detail.empty() ? r.body : r.detail}});
                   retry_later();
                   return;
                 }
                 lease_ = grant.id;
                 last_renewed_ms_ = uv_now(loop_);
                 renew_timer_.start(kRenewEveryMs, kRenewEveryMs, [this] { renew(); });
                 campaign();
               });
}

void LeaderElection::campaign() {
  std::string body;
  etcd::encode_campaign(body, kLeaderElection, lease_, value_);
  etcd::GatewayConnection::Handlers handlers;
  // No timeout: the campaign answers when this server wins, which may be never.
  handlers.on_done = [this, alive = alive_, lease = lease_](etcd::CallResult r) {
    if (!*alive || !running_ || lease != lease_) return;
    etcd::CampaignResponse won;
    etcd::DecodeStatus st = r.ok() ? etcd::decode_campaign(r.body, won)
                                   : etcd::DecodeStatus::bad(r.detail + " " + r.body);
    if (!st.ok()) {
      // A member restart closes the connection: campaign again with the same lease.
      log::warn("server", "leader campaign ended without a result; retrying",
                {{"error", st.message}});
      retry_later();
      return;
    }
    fence_ = won.leader;
    ++elections_won_;
    log::info("server", "this server is the cairn leader",
              {{"fence_revision", std::to_string(won.leader.rev)}});
    if (events_.on_elected) events_.on_elected(*fence_);
  };
  campaign_ = client_.open_stream("/v3/election/campaign", body, std::move(handlers));
}

void LeaderElection::renew() {
  if (lease_ == 0) return;
  if (fence_ && uv_now(loop_) - last_renewed_ms_ > kUnconfirmedAfterMs) {
    lose("the lease could not be renewed in time");
    return;
  }
  std::string body;
  etcd::encode_lease_keepalive(body, {lease_});
  client_.call("/v3/lease/keepalive", std::move(body), kCallTimeoutMs,
               [this, alive = alive_, lease = lease_](etcd::CallResult r) {
                 if (*alive && running_ && lease == lease_) on_renewed(std::move(r));
               });
}

void LeaderElection::on_renewed(etcd::CallResult result) {
  if (!result.ok()) return;  // the deadline check in renew() decides
  etcd::LeaseKeepAliveResponse k;
  if (!etcd::decode_lease_keepalive(result.body, k).ok()) return;
  if (k.ttl <= 0) {
    lose("the election lease expired");
    return;
  }
  last_renewed_ms_ = uv_now(loop_);
}

void LeaderElection::lose(std::string_view why) {
  bool was_leader = fence_.has_value();
  fence_.reset();
  renew_timer_.stop();
  lease_ = 0;
  if (campaign_) campaign_->cancel();
  log::warn("server", was_leader ? "lost the cairn leadership" : "leader campaign reset",
            {{"reason", why}});
  if (was_leader && events_.on_lost) events_.on_lost();
  retry_later();
}

void LeaderElection::retry_later() {
  if (!running_) return;
  retry_timer_.start(kRetryMs, 0, [this] {
    campaign_.reset();
    if (!running_) return;
    if (lease_ == 0) {
      grant_lease();
    } else {
      campaign();
    }
  });
}

void LeaderElection::resign(std::function<void()> done) {
  running_ = false;
  renew_timer_.stop();
  retry_timer_.stop();
  bool was_leader = fence_.has_value();
  std::optional<etcd::LeaderKey> fence = std::move(fence_);
  fence_.reset();
  if (campaign_) campaign_->cancel();  // a blocked campaign's key goes with its connection
  if (was_leader && events_.on_lost) events_.on_lost();
  if (lease_ == 0) {
    if (done) done();
    return;
  }
  // Revoking the lease deletes the leader key: the next candidate wins at once.
  std::string body;
  etcd::encode_lease_revoke(body, lease_);
  lease_ = 0;
  client_.call("/v3/lease/revoke", std::move(body), kCallTimeoutMs,
               [done = std::move(done)](etcd::CallResult) {
                 if (done) done();
               });
}

}  // namespace cairn::server
