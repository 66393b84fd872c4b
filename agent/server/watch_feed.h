// Feeds a server's state store from its etcd member: list, then watch.
//
// kube-apiserver's watch cache, after shared/reference/etcd.md §8.7:
// 1. list /cairn/ in pages at one revision R (the first page's revision);
// 2. watch the whole keyspace from R+1, so that every revision shows up as
//    an event and "applied up to revision N" is exact even when someone
//    writes outside /cairn/ (those keys are skipped);
// 3. hand each revision's rows over as one batch at that revision, and
//    progress notifications as "nothing changed up to N";
// 4. when the stream breaks, resume from the last revision + 1; when etcd
//    says that revision is compacted, list again (a new snapshot).
// A quiet stream still gets a progress message every second (the member
// runs with --experimental-watch-progress-notify-interval 1s), so a stream
// silent for kStallMs is taken as dead and reopened.
//
// The feed does not own the store: the owner applies snapshots and batches
// (and decides how a snapshot replaces what it had). Rows that cannot be
// read are counted and logged, never applied as guesses; a message that is
// not etcd's reopens the stream.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "agent/etcd/gateway_client.h"
#include "agent/etcd/stream_lines.h"
#include "agent/server/etcd_rows.h"
#include "common/uv_handle.h"

namespace cairn::server {

struct WatchFeedCounters {
  uint64_t snapshots = 0;           // lists completed (1 + re-lists)
  uint64_t batches = 0;             // revisions delivered
  uint64_t progress = 0;            // progress notifications
  uint64_t malformed_rows = 0;      // /cairn/ rows that could not be read
  uint64_t malformed_messages = 0;  // gateway messages that were not etcd's
  uint64_t stream_restarts = 0;     // watch streams reopened (resumed or after a list)
  uint64_t compactions = 0;         // watches canceled because history was compacted
};

// A key of the cairn leader election (reference §8.9): the store does not
// hold these, the server's leader tracking does.
struct LeaderRow {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  bool deleted = false;
};

class WatchFeed {
 public:
  struct Sink {
    // The whole /cairn/ content at revision. Replaces whatever came before.
    std::function<void(int64_t revision, std::vector<state::Mutation> rows)> on_snapshot;
    // The changes of one revision, in etcd's order; may be empty when the
    // revision touched only keys outside /cairn/.
    std::function<void(int64_t revision, state::Batch batch)> on_batch;
    // Everything up to revision has been delivered.
    std::function<void(int64_t revision)> on_progress;
    // Election keys under /cairn/leader/ and the handoff marker
    // (leader_handoff.h): the whole set after a list
    // (whole = true, before on_snapshot), else the changes of one revision
    // (before on_batch).
    std::function<void(std::vector<LeaderRow> rows, bool whole)> on_leader_rows;
  };

  static constexpr int64_t kListPage = 1000;
  static constexpr uint64_t kCallTimeoutMs = 3000;
  static constexpr uint64_t kRetryMs = 200;
  static constexpr uint64_t kStallMs = 5000;

  WatchFeed(uv_loop_t* loop, etcd::GatewayClient& client, Sink sink);
  ~WatchFeed();
  WatchFeed(const WatchFeed&) = delete;
  WatchFeed& operator=(const WatchFeed&) = delete;

  void start();
  void stop();

  // The revision everything has been delivered up to (0 before the first snapshot).
  int64_t revision() const { return revision_; }
  // Milliseconds (loop clock) of the last message from etcd: X-Consul-LastContact.
  uint64_t last_contact_ms() const { return last_contact_ms_; }
  bool watching() const { return stream_ != nullptr && stream_created_; }
  const WatchFeedCounters& counters() const { return counters_; }

 private:
  void list_page(std::string from_key);
  void on_list_page(etcd::CallResult result);
  void open_stream();
  void on_stream_line(std::string_view line);
  void on_stream_done(etcd::CallResult result);
  void on_events(const etcd::WatchMessage& m);
  void on_revision(std::span<const etcd::WatchEvent> events);
  void restart_later(bool relist);
  void check_stall();

  uv_loop_t* loop_;
  etcd::GatewayClient& client_;
  Sink sink_;
  bool running_ = false;
  int64_t revision_ = 0;
  // The list in progress: its revision and the rows so far.
  int64_t list_revision_ = 0;
  std::vector<state::Mutation> list_rows_;
  std::vector<LeaderRow> list_leader_rows_;
  std::unique_ptr<etcd::GatewayConnection> stream_;
  std::unique_ptr<etcd::GatewayConnection> retired_stream_;
  uint64_t stream_generation_ = 0;
  etcd::StreamLines lines_;
  bool stream_created_ = false;
  uint64_t last_contact_ms_ = 0;
  Timer retry_timer_;
  Timer stall_timer_;
  WatchFeedCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cairn::server
