#include "agent/etcd/member_command.h"

#include <simdjson.h>

#include "common/json_fields.h"

namespace cairn::etcd {

std::string client_socket_path(std::string_view run_dir) {
  std::string path(run_dir);
  if (!path.empty() && path.back() != '/') path += '/';
  path += kClientSocketName;
  return path;
}

std::vector<std::string> member_command_line(const MemberConfig& c) {
  std::string cluster;
  for (const auto& [name, url] : c.initial_cluster) {
    if (!cluster.empty()) cluster += ',';
    cluster += name + "=" + url;
  }
  std::string client_url = c.client_port > 0
                               ? "http://127.0.0.1:" + std::to_string(c.client_port)
                               : "unix://" + std::string(kClientSocketName);
  std::vector<std::string> args = {
      c.etcd_binary,
      "--name",
      c.name,
      "--data-dir",
      c.data_dir,
      "--listen-client-urls",
      client_url,
      "--advertise-client-urls",
      client_url,
      "--listen-peer-urls",
      c.peer_url,
      "--initial-advertise-peer-urls",
      c.peer_url,
      "--initial-cluster",
      cluster,
      "--initial-cluster-state",
      c.join_existing ? "existing" : "new",
      "--initial-cluster-token",
      c.cluster_token,
      "--heartbeat-interval",
      std::to_string(c.heartbeat_ms),
      "--election-timeout",
      std::to_string(c.election_ms),
      "--logger",
      "zap",
      "--log-outputs",
      "stderr",
      "--log-level",
      "warn",
      // Leases keep their remaining TTL across an etcd leader change (§6.4).
      "--experimental-enable-lease-checkpoint",
      "--experimental-enable-lease-checkpoint-persist",
      // A quiet watch still proves the cache is current (§5.6).
      "--experimental-watch-progress-notify-interval",
      "1s",
      "--snapshot-count",
      "10000",
      "--max-txn-ops",
      std::to_string(kMemberMaxTxnOps),
  };
  if (c.pre_vote) args.emplace_back("--pre-vote");
  if (c.quota_backend_bytes > 0) {
    args.emplace_back("--quota-backend-bytes");
    args.emplace_back(std::to_string(c.quota_backend_bytes));
  }
  if (c.unsafe_no_fsync) args.emplace_back("--unsafe-no-fsync");
  if (c.die_with_parent)
    args.insert(args.begin(), {"setpriv", "--pdeathsig", "KILL", "--"});
  return args;
}

namespace {

log::Level zap_level(std::string_view level) {
  if (level == "debug") return log::Level::debug;
  if (level == "info") return log::Level::info;
  if (level == "warn") return log::Level::warn;
  return log::Level::error;  // error, dpanic, panic, fatal
}

std::string field_text(simdjson::dom::element v) {
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return std::string(simdjson::minify(v));
}

}  // namespace

MemberLogLine parse_member_log_line(std::string_view line) {
  MemberLogLine out;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (line.empty() || line.front() != '{' ||
      parse_document(parser, line).get_object().get(obj) != simdjson::SUCCESS) {
    out.level = log::Level::error;
    out.message = std::string(line);
    return out;
  }
  for (auto field : obj) {
    std::string_view key = field.key;
    if (key == "level") {
      std::string_view level;
      if (field.value.get_string().get(level) == simdjson::SUCCESS) out.level = zap_level(level);
    } else if (key == "msg") {
      out.message = field_text(field.value);
    } else if (key != "ts") {  // cairn's log stamps its own time
      out.fields.emplace_back(std::string(key), field_text(field.value));
    }
  }
  return out;
}

MemberFatal classify_member_log_line(std::string_view message) {
  if (message.find("flag provided but not defined") != std::string_view::npos)
    return MemberFatal::bad_flag;
  if (message.find("has been permanently removed from the cluster") != std::string_view::npos ||
      message.find("the member has been permanently removed") != std::string_view::npos ||
      message.find("data-dir used by this member must be removed") != std::string_view::npos)
    return MemberFatal::removed_from_cluster;
  if (message.find("is already in use") != std::string_view::npos ||
      message.find("cannot access data directory") != std::string_view::npos)
    return MemberFatal::data_dir_locked;
  return MemberFatal::none;
}

}  // namespace cairn::etcd
