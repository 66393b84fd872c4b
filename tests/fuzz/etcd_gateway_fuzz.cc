// Whatever an etcd member (or something pretending to be one) writes on a
// gateway stream: the body is split into lines and every line goes through
// every decoder. Bad input must end in a typed error, never a crash, and a
// decoded watch message must hold what the decoder promises; its events go
// through the row codec as the watch cache would apply them; and each line
// is also read as one of the etcd member's log lines and as a server's join
// request and answer (gossip query payloads), a leadership handoff marker
// and the autopilot configuration row.
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/etcd/gateway_decode.h"
#include "agent/etcd/member_command.h"
#include "agent/etcd/stream_lines.h"
#include "agent/server/etcd_rows.h"
#include "agent/server/join_request.h"
#include "agent/server/leader_handoff.h"

using namespace cairn::etcd;

namespace {

void check_status(const DecodeStatus& st) {
  if (!st.ok() && st.code == DecodeStatus::Code::malformed && st.message.empty()) __builtin_trap();
  if (st.code == DecodeStatus::Code::rpc_error && (st.grpc_code < 0 || st.grpc_code > 16))
    __builtin_trap();
}

void decode_line(std::string_view line) {
  WatchMessage watch;
  auto st = decode_watch_message(line, watch);
  check_status(st);
  if (st.ok()) {
    int64_t last = 0;
    for (const auto& ev : watch.events) {
      // Revisions never go backwards within a message (a catching-up watch packs several).
      if (ev.kv.mod_revision < last) __builtin_trap();
      last = ev.kv.mod_revision;
      // What the watch cache does with each event: a row, or a typed refusal.
      cairn::state::Mutation m;
      auto row = ev.type == WatchEvent::Type::del ? cairn::server::decode_row_delete(ev.kv.key, m)
                                                  : cairn::server::decode_row(ev.kv, m);
      if (row.code == cairn::server::RowStatus::Code::malformed && row.error.empty())
        __builtin_trap();
    }
  }
  RangeResponse range;
  check_status(decode_range(line, range));
  TxnResponse txn;
  check_status(decode_txn(line, txn));
  LeaseKeepAliveResponse keepalive;
  check_status(decode_lease_keepalive(line, keepalive));
  MemberListResponse members;
  check_status(decode_member_list(line, members));
  AlarmResponse alarms;
  check_status(decode_alarm(line, alarms));
  StatusResponse status;
  check_status(decode_status(line, status));
  if (decode_status(line, status).ok() && (status.db_size < 0 || status.db_size_in_use < 0))
    __builtin_trap();
  // A server's join request and the leader's answer travel as gossip query payloads.
  cairn::server::JoinRequest join;
  std::string join_err = cairn::server::decode_join_request(line, join);
  if (join_err.empty() && (join.name.empty() || join.peer_url.empty())) __builtin_trap();
  cairn::server::JoinAnswer answer;
  std::string answer_err = cairn::server::decode_join_answer(line, answer);
  if (answer_err.empty() && answer.error.empty() && answer.initial_cluster.empty())
    __builtin_trap();
  // Rows cairn reads back from etcd outside the catalog's tables.
  auto handoff = cairn::server::decode_handoff(line);
  if (handoff && handoff->target.empty()) __builtin_trap();
  KeyValue autopilot{cairn::server::autopilot_row_key(), std::string(line), 5, 7, 1, 0};
  cairn::state::Mutation config;
  auto row = cairn::server::decode_row(autopilot, config);
  if (row.ok() && !std::holds_alternative<cairn::state::PutAutopilotConfig>(config))
    __builtin_trap();
  // The member's own stderr lines take the same path into cairn's log.
  MemberLogLine logged = parse_member_log_line(line);
  if (logged.message.empty() && !line.empty() && line.front() != '{') __builtin_trap();
  (void)classify_member_log_line(line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  StreamLines lines(4096);
  // Feed in uneven pieces, as reads off a socket would come.
  size_t step = 1 + (size % 7);
  for (size_t at = 0; at < body.size(); at += step) {
    if (!lines.feed(body.substr(at, step), decode_line)) break;
  }
  return 0;
}
