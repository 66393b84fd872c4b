// The figures /v1/agent/metrics reads on a scrape rather than counts on a
// hot path, under Consul's names (docs/metrics.md): the process (Consul's
// consul.runtime.* and Prometheus' process_*), the state store's sizes
// (consul.state.*), and a server's consensus and RPC figures.
#pragma once

#include <cstdint>

#include "agent/state/store.h"
#include "common/metrics.h"
#include "common/process_stats.h"

namespace cairn {

namespace forward {
class CatalogMirror;
class CatalogPublisher;
}  // namespace forward

// consul.runtime.* from the process as the kernel and malloc see it, and
// Prometheus' process_* names for the same figures.
void add_runtime_metrics(MetricsRegistry& into, const ProcessStats& process, double uptime_seconds,
                         double start_time_unix);

// consul.state.nodes, services (distinct names), service_instances and
// kv_entries: what a Consul 1.9+ server reports of its state store.
void add_state_metrics(MetricsRegistry& into, const state::Store& store);

// A server's view of its datacenter's servers, for Consul's autopilot
// gauges: how many there are and how many gossip shows alive.
struct ServerHealth {
  uint64_t servers = 0;  // this one included
  uint64_t alive = 0;
};
// consul.autopilot.healthy (1 when every server is alive) and
// consul.autopilot.failure_tolerance (alive servers beyond a quorum).
void add_autopilot_metrics(MetricsRegistry& into, const ServerHealth& health);

// cairn.client.view.*: a client agent's streamed view of the catalog (how
// current it is, what it holds, how it caught up, answers given stale).
void add_view_metrics(MetricsRegistry& into, const forward::CatalogMirror& view);
// cairn.catalog.stream.*: a server's side of the clients' views.
void add_view_metrics(MetricsRegistry& into, const forward::CatalogPublisher& publisher);

}  // namespace cairn
