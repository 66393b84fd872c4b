#include "agent/server/leader.h"

#include "agent/state/catalog_ops.h"

namespace cairn::server {

std::string plan_member_health(const state::Store& store, const ServerMember& m, bool is_server,
                               state::Batch& out) {
  if (!store.node(m.node)) return "";  // anti-entropy has not created the node yet
  if (is_server) {
    state::Service svc;
    svc.node = store.node(m.node)->name;
    svc.id = kConsulServiceID;
    svc.name = kConsulServiceID;
    svc.port = m.server_port;
    svc.meta = {{"raft_version", "3"}, {"serf_protocol_current", "2"},
                {"serf_protocol_max", "5"}, {"serf_protocol_min", "1"}, {"version", m.version}};
    state::plan_put_service(store, svc, out);
  }
  state::Check c;
  c.node = store.node(m.node)->name;
  c.check_id = kSerfCheckID;
  c.name = kSerfCheckName;
  c.status = m.alive ? state::kPassing : state::kCritical;
  c.output = m.alive ? kSerfAliveOutput : kSerfDeadOutput;
  state::plan_put_check(store, c, out);
  return "";
}

}  // namespace cairn::server
