// A client agent's side of forwarding: answers a Consul API request by
// sending it to a server of its datacenter over the RPC (http_envelope.h).
//
// One connection to the current server carries every forwarded request,
// blocking queries included. When a call fails before it was sent, the
// server goes to the end of the list and the call is retried on the next;
// when it may have run (the connection broke after sending), only a read is
// retried, and a write is answered with a 500 that says its outcome is
// unknown, never repeated. With no server known, Consul's "No known Consul
// servers" (500).
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/forward/server_list.h"
#include "agent/rpc/connection.h"
#include "common/http/server.h"
#include "common/uv_handle.h"

namespace cairn::forward {

class Forwarder {
 public:
  struct Settings {
    std::string origin_node;            // this client's node name
    uint64_t call_timeout_ms = 15'000;  // beyond a write's own 5 s etcd deadline and retries
    uint64_t seed = 0;                  // the server order's randomness
  };

  Forwarder(uv_loop_t* loop, Settings settings);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // The datacenter's servers as gossip knows them now.
  void set_servers(std::vector<ServerEntry> servers);
  // Answers ex with the server's answer (or why there is none).
  void forward(const std::shared_ptr<http::Exchange>& ex);

  // One RPC to a server of the datacenter, failing over as above: retried
  // elsewhere when it was not sent, and when it may have run only if
  // idempotent. done gets the last status and the answer's body.
  using Done = std::function<void(const rpc::Status& status, std::string body)>;
  void call(std::string_view method, std::string body, uint64_t timeout_ms, bool idempotent,
            Done done);

  // A long-lived stream from the current server (an inactive Stream when
  // none is known). A stream that ends badly should call server_failed().
  rpc::Stream open_stream(std::string_view method, std::string body,
                          rpc::Connection::MessageCallback on_message,
                          rpc::Connection::EndCallback on_end);
  // The current server failed a stream: the next call goes to another.
  void server_failed();

  const ServerEntry* current_server() const { return servers_.current(); }
  // Loop time (ms) of the last answer from any server; 0 before any.
  uint64_t last_contact_ms() const { return last_contact_ms_; }
  uint64_t forwarded() const { return forwarded_; }
  uint64_t failovers() const { return failovers_; }
  // RPCs made to servers (calls and streams; a retried call counts once) and
  // attempts that failed: Consul's consul.client.rpc and consul.client.rpc.failed.
  uint64_t rpcs() const { return rpcs_; }
  uint64_t rpc_failures() const { return rpc_failures_; }

 private:
  struct Call;
  void attempt(const std::shared_ptr<Call>& call);
  void on_answer(const std::shared_ptr<Call>& call, const std::string& server, rpc::Status status,
                 std::string body);
  void answer_forwarded(const std::shared_ptr<http::Exchange>& ex, const rpc::Status& status,
                        std::string body);
  rpc::Connection& connection_to(const ServerEntry& server);
  void rebalance_later();

  uv_loop_t* loop_;
  Settings settings_;
  ServerList servers_;
  std::map<std::string, std::unique_ptr<rpc::Connection>> connections_;  // by server name
  Timer rebalance_timer_;
  uint64_t last_contact_ms_ = 0;
  uint64_t forwarded_ = 0;
  uint64_t failovers_ = 0;
  uint64_t rpcs_ = 0;
  uint64_t rpc_failures_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// How long a forwarded request may take: a blocking query's wait (Consul's
// default 5 min, at most 10 min) plus its jitter (wait/16) and a margin, or
// call_timeout_ms for anything else.
uint64_t forward_timeout_ms(const http::Request& request, uint64_t call_timeout_ms);

}  // namespace cairn::forward
