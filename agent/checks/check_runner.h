// A running health check, and what every runner of one agent shares.
// Runners are owned by the CheckManager; destroying one stops it (its timers,
// sockets and child processes go with it).
#pragma once

#include <uv.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/checks/run_pool.h"
#include "agent/checks/socket_watcher.h"
#include "agent/checks/timeout_queues.h"
#include "agent/checks/tls_client.h"

namespace cairn::state {
class Store;
}

namespace cairn::checks {

// Where a runner reports each result: the check's status and output. The
// views are only valid during the call (runners build output in reused buffers).
using StatusSink = std::function<void(const std::string& check_id, std::string_view status,
                                      std::string_view output)>;

// Consul's DefaultBufSize: the most output a check keeps unless configured.
inline constexpr size_t kDefaultOutputMaxSize = 4096;

// Shared by every runner: the loop, agent-wide settings, the TLS contexts,
// the pool of per-run state and one read buffer. Probes run on one thread and consume each read
// before the next one starts, so 10,000 checks share 64 KB instead of owning 640 MB.
struct CheckEnv {
  explicit CheckEnv(uv_loop_t* l) : loop(l), sockets(l), timeouts(l) {}
  CheckEnv(const CheckEnv&) = delete;
  CheckEnv& operator=(const CheckEnv&) = delete;

  uv_loop_t* loop;
  StatusSink sink;                      // every runner reports here
  const state::Store* store = nullptr;  // alias checks watch the catalog
  std::string node_name;                // alias checks without AliasNode mirror this node
  size_t output_max_size = kDefaultOutputMaxSize;  // check_output_max_size
  TlsContexts tls;
  SocketWatcher sockets;   // readiness of every check socket
  TimeoutQueues timeouts;  // run timeouts
  RunPool runs;            // per-run state, borrowed while a run is in flight
  std::vector<char> read_buffer = std::vector<char>(64 * 1024);
};

class CheckRunner {
 public:
  virtual ~CheckRunner() = default;
  const std::string& id() const { return id_; }

 protected:
  explicit CheckRunner(std::string id) : id_(std::move(id)) {}

  // The check's ID: what the runner reports under, and the manager's only
  // copy of it (the manager finds runners by it instead of keying a copy).
  const std::string id_;
};

}  // namespace cairn::checks
