#include "agent/telemetry.h"

#include <malloc.h>

#include "agent/forward/catalog_mirror.h"
#include "agent/forward/catalog_publisher.h"

// Under AddressSanitizer malloc is the sanitizer's, and mallinfo2 knows
// nothing of it: its allocator keeps the count.
#if defined(__SANITIZE_ADDRESS__)
#define CAIRN_ASAN_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CAIRN_ASAN_ALLOCATOR 1
#endif
#endif
#ifdef CAIRN_ASAN_ALLOCATOR
#include <sanitizer/allocator_interface.h>
#endif

namespace cairn {

namespace {

// What malloc has handed out and not had back: the nearest to Go's
// HeapAlloc. mallinfo2 walks the arenas: fine on a scrape.
double allocated_bytes() {
#ifdef CAIRN_ASAN_ALLOCATOR
  return static_cast<double>(__sanitizer_get_current_allocated_bytes());
#else
  struct mallinfo2 mi = mallinfo2();
  return static_cast<double>(mi.uordblks + mi.hblkhd);
#endif
}

}  // namespace

void add_runtime_metrics(MetricsRegistry& into, const ProcessStats& p, double uptime_seconds,
                         double start_time_unix) {
  auto gauge = [&](const char* name, const char* help, double v) { into.gauge(name, help).set(v); };
  gauge("consul.runtime.alloc_bytes", "Bytes allocated by malloc and not yet freed",
        allocated_bytes());
  gauge("consul.runtime.sys_bytes", "Resident memory of the process (VmRSS)",
        static_cast<double>(p.resident_bytes));
  gauge("consul.runtime.num_goroutines", "Threads of the process (cairn has no goroutines)",
        static_cast<double>(p.threads));
  gauge("consul.runtime.uptime_seconds", "Seconds since the agent started", uptime_seconds);
  // Prometheus' process collector, which a Consul agent's /metrics also carries.
  gauge("process.resident_memory_bytes", "Resident memory size in bytes",
        static_cast<double>(p.resident_bytes));
  gauge("process.virtual_memory_bytes", "Virtual memory size in bytes",
        static_cast<double>(p.virtual_bytes));
  gauge("process.open_fds", "Number of open file descriptors", static_cast<double>(p.open_fds));
  gauge("process.max_fds", "Maximum number of open file descriptors",
        static_cast<double>(p.max_fds));
  gauge("process.start_time_seconds", "Start time of the process since unix epoch in seconds",
        start_time_unix);
  gauge("process.cpu_seconds_total", "Total user and system CPU time spent in seconds",
        p.cpu_seconds);
}

void add_state_metrics(MetricsRegistry& into, const state::Store& store) {
  uint64_t instances = 0;
  for (const auto& [name, keys] : store.services_by_name()) instances += keys.size();
  auto gauge = [&](const char* name, const char* help, size_t v) {
    into.gauge(name, help).set(static_cast<double>(v));
  };
  gauge("consul.state.nodes", "Nodes in the catalog", store.nodes().size());
  gauge("consul.state.services", "Distinct service names in the catalog",
        store.services_by_name().size());
  gauge("consul.state.service_instances", "Service instances in the catalog", instances);
  gauge("consul.state.kv_entries", "Keys in the KV store", store.kvs().size());
}

void add_autopilot_metrics(MetricsRegistry& into, const ServerHealth& h) {
  uint64_t quorum = h.servers / 2 + 1;
  into.gauge("consul.autopilot.healthy", "1 when every server of the datacenter is alive")
      .set(h.servers > 0 && h.alive == h.servers ? 1 : 0);
  into.gauge("consul.autopilot.failure_tolerance",
             "Servers that can fail with the datacenter keeping a quorum")
      .set(h.alive > quorum ? static_cast<double>(h.alive - quorum) : 0);
}

void add_view_metrics(MetricsRegistry& into, const forward::CatalogMirror& view) {
  into.gauge("cairn.client.view.current", "1 while a server streams the view and it is caught up")
      .set(view.current() ? 1 : 0);
  into.gauge("cairn.client.view.age_ms",
             "Milliseconds since the view's stream ended (0 while current)")
      .set(static_cast<double>(view.age_ms()));
  into.gauge("cairn.client.view.services", "Services the view holds")
      .set(static_cast<double>(view.held_services()));
  into.gauge("cairn.client.view.nodes", "Nodes the view holds because they were looked up")
      .set(static_cast<double>(view.held_nodes()));
  into.counter("cairn.client.view.stale_answers",
               "Reads answered from the view while no server streamed it")
      .value = view.stale_answers();
  into.counter("cairn.client.view.snapshots", "Whole snapshots the view loaded").value =
      view.snapshots();
  into.counter("cairn.client.view.resumes", "Streams that resumed from the view's index").value =
      view.resumes();
  into.counter("cairn.client.view.expired", "Subscriptions dropped after their ttl unused").value =
      view.expired();
}

void add_view_metrics(MetricsRegistry& into, const forward::CatalogPublisher& publisher) {
  into.gauge("cairn.catalog.stream.watchers", "Client views this server streams")
      .set(static_cast<double>(publisher.watchers()));
  into.counter("cairn.catalog.stream.snapshots", "Whole snapshots sent to client views").value =
      publisher.snapshots_sent();
  into.counter("cairn.catalog.stream.resumes",
               "Client views resumed from their index without a snapshot")
      .value = publisher.resumes();
}

}  // namespace cairn
