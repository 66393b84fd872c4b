#include "agent/etcd/cluster_membership.h"

#include "agent/etcd/gateway_decode.h"
#include "agent/etcd/gateway_encode.h"

namespace cairn::etcd {

namespace {

// Refusals that pass: the leader has not seen every voter connected for 5 s,
// or the learner has not caught up (reference §1.3).
bool is_transient(const DecodeStatus& st, const CallResult& r) {
  if (r.transport != CallResult::Transport::ok) return true;
  if (st.code != DecodeStatus::Code::rpc_error) return false;
  return st.grpc_code == grpc_code::unavailable ||
         st.message.find("can only promote a learner member which is in sync") != std::string::npos;
}

}  // namespace

ClusterMembership::ClusterMembership(uv_loop_t* loop, GatewayClient& client)
    : loop_(loop), client_(client) {}

ClusterMembership::~ClusterMembership() {
  *alive_ = false;
}

void ClusterMembership::list(Done done) {
  attempt("/v3/cluster/member/list", "{}", false, 1, std::move(done));
}

void ClusterMembership::add_learner(std::string peer_url, Done done) {
  std::string body;
  encode_member_add(body, {std::move(peer_url)}, true);
  attempt("/v3/cluster/member/add", std::move(body), true, 1, std::move(done));
}

void ClusterMembership::promote(uint64_t id, Done done) {
  std::string body;
  encode_member_id(body, id);
  attempt("/v3/cluster/member/promote", std::move(body), false, 1, std::move(done));
}

void ClusterMembership::remove(uint64_t id, Done done) {
  std::string body;
  encode_member_id(body, id);
  attempt("/v3/cluster/member/remove", std::move(body), false, 1, std::move(done));
}

void ClusterMembership::attempt(std::string path, std::string body, bool is_add, int attempt_no,
                                Done done) {
  std::string p = path, b = body;
  client_.call(std::move(p), std::move(b), kCallTimeoutMs,
               [this, alive = alive_, path = std::move(path), body = std::move(body), is_add,
                attempt_no, done = std::move(done)](CallResult r) mutable {
                 if (!*alive) return;
                 // Fired retry timers are freed here, never from their own callback.
                 std::erase_if(timers_, [](const auto& t) { return !t->active(); });
                 MemberListResponse resp;
                 DecodeStatus st = r.transport == CallResult::Transport::ok
                                       ? decode_member_list(r.body, resp)
                                       : DecodeStatus::bad(r.detail);
                 if (st.ok() && r.http_status == 200) {
                   MembershipResult ok;
                   ok.ok = true;
                   if (resp.member) ok.member = *resp.member;
                   ok.members = std::move(resp.members);
                   done(std::move(ok));
                   return;
                 }
                 // An add whose answer was lost may have been applied: retrying could
                 // add the same peer twice, so only refusals that applied nothing retry.
                 bool may_have_applied = is_add && r.transport != CallResult::Transport::ok &&
                                         r.transport != CallResult::Transport::connect_failed;
                 if (attempt_no < kMaxAttempts && !may_have_applied && is_transient(st, r)) {
                   auto& timer = timers_.emplace_back(std::make_unique<Timer>(loop_));
                   timer->start(kRetryMs, 0,
                                [this, path = std::move(path), body = std::move(body), is_add,
                                 attempt_no, done = std::move(done)]() mutable {
                                  attempt(std::move(path), std::move(body), is_add, attempt_no + 1,
                                          std::move(done));
                                });
                   return;
                 }
                 MembershipResult failed;
                 failed.error = st.message.empty() ? r.detail : st.message;
                 done(std::move(failed));
               });
}

std::vector<std::pair<std::string, std::string>> ClusterMembership::initial_cluster_for_join(
    const std::vector<Member>& members, const std::string& name, const std::string& peer_url) {
  // As etcdctl's member add prints it: every member, the joining one under its
  // name; a member added but not started yet has no name and stays unnamed,
  // since etcd checks the peer URLs of an existing cluster, not the names.
  std::vector<std::pair<std::string, std::string>> out;
  bool self_listed = false;
  for (const auto& m : members) {
    for (const auto& url : m.peer_urls) {
      bool is_self = url == peer_url;
      self_listed = self_listed || is_self;
      out.emplace_back(is_self ? name : m.name, url);
    }
  }
  if (!self_listed) out.emplace_back(name, peer_url);
  return out;
}

}  // namespace cairn::etcd
