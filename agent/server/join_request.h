// The request a server sends, over a Serf query to the datacenter's
// servers, to join an etcd cluster that formed without it, and the answer.
//
// etcd's client endpoint never leaves a server's host, so a newcomer cannot
// add itself: it asks, and the cairn leader (only the leader answers, so two
// servers never add the same learner) adds it as a learner and answers with
// the --initial-cluster it must start with (reference §1.3). Serf query
// payloads are small (1 KiB): the answer holds names and peer URLs only.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::server {

inline constexpr std::string_view kJoinQuery = "cairn:etcd-join";

struct JoinRequest {
  std::string name;
  std::string datacenter;
  std::string peer_url;
};

struct JoinAnswer {
  std::vector<std::pair<std::string, std::string>> initial_cluster;  // name, peer URL
  std::string error;  // the leader could not add the member (the requester retries)
};

std::string encode_join_request(const JoinRequest& r);
// "" or what is wrong with the payload.
std::string decode_join_request(std::string_view payload, JoinRequest& out);
std::string encode_join_answer(const JoinAnswer& a);
std::string decode_join_answer(std::string_view payload, JoinAnswer& out);

}  // namespace cairn::server
