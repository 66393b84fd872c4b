// The figures read on a scrape, under Consul's names.
#include "agent/telemetry.h"

#include <doctest/doctest.h>

using namespace cairn;

TEST_CASE("consul.state.*: nodes, distinct service names, instances, KV keys") {
  state::Store store;
  state::Batch b;
  for (const char* n : {"n1", "n2"}) {
    state::Node node;
    node.name = n;
    node.address = "10.0.0.1";
    b.push_back(state::PutNode{node});
    for (const char* svc : {"web", "db"}) {
      state::Service s;
      s.node = n;
      s.id = svc;
      s.name = svc;
      b.push_back(state::PutService{s});
    }
  }
  state::KVEntry kv;
  kv.key = "k";
  b.push_back(state::PutKV{kv});
  store.apply(b, 1);

  MetricsRegistry m;
  add_state_metrics(m, store);
  CHECK(m.gauge("consul.state.nodes", "").value == 2);
  CHECK(m.gauge("consul.state.services", "").value == 2);
  CHECK(m.gauge("consul.state.service_instances", "").value == 4);
  CHECK(m.gauge("consul.state.kv_entries", "").value == 1);
}

TEST_CASE("consul.autopilot.*: healthy when all servers are alive; tolerance beyond a quorum") {
  auto report = [](ServerHealth h) {
    MetricsRegistry m;
    add_autopilot_metrics(m, h);
    return std::pair{m.gauge("consul.autopilot.healthy", "").value,
                     m.gauge("consul.autopilot.failure_tolerance", "").value};
  };
  CHECK(report({1, 1}) == std::pair{1.0, 0.0});
  CHECK(report({3, 3}) == std::pair{1.0, 1.0});
  CHECK(report({5, 5}) == std::pair{1.0, 2.0});
  CHECK(report({5, 4}) == std::pair{0.0, 1.0});
  CHECK(report({3, 1}) == std::pair{0.0, 0.0});
}

TEST_CASE("consul.runtime.* and process_* from the process's figures") {
  ProcessStats p;
  p.resident_bytes = 5 << 20;
  p.virtual_bytes = 50 << 20;
  p.threads = 4;
  p.open_fds = 12;
  p.max_fds = 1024;
  p.cpu_seconds = 1.5;
  MetricsRegistry m;
  add_runtime_metrics(m, p, 10, 1'700'000'000);
  CHECK(m.gauge("consul.runtime.sys_bytes", "").value == 5 << 20);
  CHECK(m.gauge("consul.runtime.num_goroutines", "").value == 4);
  CHECK(m.gauge("consul.runtime.alloc_bytes", "").value > 0);
  CHECK(m.gauge("consul.runtime.uptime_seconds", "").value == 10);
  std::string text = m.prometheus();
  CHECK(text.find("\nprocess_open_fds 12\n") != std::string::npos);
  CHECK(text.find("\nprocess_max_fds 1024\n") != std::string::npos);
  CHECK(text.find("\nprocess_start_time_seconds 1700000000\n") != std::string::npos);
  CHECK(text.find("\nprocess_resident_memory_bytes 5242880\n") != std::string::npos);
}
