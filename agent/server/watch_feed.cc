#include "agent/server/watch_feed.h"

#include "agent/etcd/gateway_decode.h"
#include "agent/etcd/gateway_encode.h"
#include "agent/server/leader_election.h"
#include "agent/server/leader_handoff.h"
#include "common/log.h"

namespace cairn::server {

namespace {

bool is_leader_key(std::string_view key) {
  if (key.starts_with(kHandoffPrefix)) return true;  // a leadership handoff (leader_handoff.h)
  return key.starts_with(kLeaderElection) && key.size() > kLeaderElection.size() &&
         key[kLeaderElection.size()] == '/';
}

}  // namespace

WatchFeed::WatchFeed(uv_loop_t* loop, etcd::GatewayClient& client, Sink sink)
    : loop_(loop),
      client_(client),
      sink_(std::move(sink)),
      retry_timer_(loop),
      stall_timer_(loop) {}

WatchFeed::~WatchFeed() {
  *alive_ = false;
  stop();
}

void WatchFeed::start() {
  if (running_) return;
  running_ = true;
  // A feed started again resumes from what it delivered; etcd says when that
  // history is compacted, and the feed then lists again.
  if (revision_ > 0) {
    open_stream();
  } else {
    list_page({});
  }
  stall_timer_.start(kStallMs, kStallMs / 2, [this] { check_stall(); });
}

void WatchFeed::stop() {
  running_ = false;
  retry_timer_.stop();
  stall_timer_.stop();
  ++stream_generation_;
  if (stream_) stream_->cancel();
  stream_.reset();
  retired_stream_.reset();
}

void WatchFeed::list_page(std::string from_key) {
  etcd::RangeRequest page;
  page.key = from_key.empty() ? std::string(kRowPrefix) : std::move(from_key);
  page.range_end = etcd::prefix_end(kRowPrefix);
  page.limit = kListPage;
  page.revision = list_revision_;  // 0 on the first page: "now", which fixes the revision
  if (list_revision_ == 0) {
    list_rows_.clear();
    list_leader_rows_.clear();
  }
  std::string body;
  etcd::encode_range(body, page);
  client_.call("/v3/kv/range", std::move(body), kCallTimeoutMs,
               [this, alive = alive_](etcd::CallResult r) {
                 if (*alive && running_) on_list_page(std::move(r));
               });
}

void WatchFeed::on_list_page(etcd::CallResult result) {
  etcd::RangeResponse page;
  etcd::DecodeStatus st = result.transport == etcd::CallResult::Transport::ok
                              ? etcd::decode_range(result.body, page)
                              : etcd::DecodeStatus::bad(result.detail);
  if (!st.ok() || !result.ok()) {
    // A compacted list revision (400, code 11) or no member: start the list over.
    log::warn("server", "listing etcd failed; retrying", {{"error", st.message}});
    restart_later(true);
    return;
  }
  last_contact_ms_ = uv_now(loop_);
  if (list_revision_ == 0) list_revision_ = page.header.revision;
  for (const auto& kv : page.kvs) {
    if (is_leader_key(kv.key)) {
      list_leader_rows_.push_back({kv.key, kv.value, kv.create_revision, false});
      continue;
    }
    state::Mutation m;
    RowStatus row = decode_row(kv, m);
    if (row.ok()) {
      list_rows_.push_back(std::move(m));
    } else if (row.code == RowStatus::Code::malformed) {
      ++counters_.malformed_rows;
      log::error("server", "skipping an etcd row cairn cannot read", {{"error", row.error}});
    }
  }
  if (page.more && !page.kvs.empty()) {
    list_page(page.kvs.back().key + std::string(1, '\0'));
    return;
  }
  revision_ = list_revision_;
  list_revision_ = 0;
  ++counters_.snapshots;
  if (sink_.on_leader_rows) sink_.on_leader_rows(std::move(list_leader_rows_), true);
  list_leader_rows_.clear();
  if (sink_.on_snapshot) sink_.on_snapshot(revision_, std::move(list_rows_));
  list_rows_.clear();
  if (*alive_ && running_) open_stream();
}

void WatchFeed::open_stream() {
  etcd::WatchCreateRequest w;
  // The whole keyspace: every revision then arrives as an event (see the header).
  w.key = std::string(1, '\0');
  w.range_end = std::string(1, '\0');
  w.start_revision = revision_ + 1;
  w.progress_notify = true;
  std::string body;
  etcd::encode_watch_create(body, w);
  lines_ = etcd::StreamLines();
  stream_created_ = false;
  uint64_t generation = ++stream_generation_;
  etcd::GatewayConnection::Handlers handlers;
  handlers.on_body = [this, generation](std::string_view bytes) {
    if (generation != stream_generation_) return;  // a stream being retired
    if (!lines_.feed(bytes, [this](std::string_view line) { on_stream_line(line); })) {
      ++counters_.malformed_messages;
      log::error("server", "etcd watch message over the size bound; reopening the watch");
      restart_later(false);
    }
  };
  handlers.on_done = [this, alive = alive_, generation](etcd::CallResult r) {
    if (*alive && generation == stream_generation_) on_stream_done(std::move(r));
  };
  stream_ = client_.open_stream("/v3/watch", body, std::move(handlers));
}

void WatchFeed::on_stream_line(std::string_view line) {
  if (!stream_) return;  // the stream is being torn down
  last_contact_ms_ = uv_now(loop_);
  etcd::WatchMessage m;
  etcd::DecodeStatus st = etcd::decode_watch_message(line, m);
  if (!st.ok()) {
    ++counters_.malformed_messages;
    log::error("server", "unreadable etcd watch message; reopening the watch",
               {{"error", st.message}});
    restart_later(false);
    return;
  }
  if (m.canceled) {
    if (m.compact_revision > 0) {
      ++counters_.compactions;
      log::info("server", "etcd history compacted past the cache; listing again",
                {{"compact_revision", std::to_string(m.compact_revision)}});
      restart_later(true);
    } else {
      log::warn("server", "etcd canceled the watch", {{"reason", m.cancel_reason}});
      restart_later(false);
    }
    return;
  }
  if (m.created) {
    stream_created_ = true;
    return;
  }
  if (m.is_progress()) {
    // Only a progress message's header is a safe "applied up to" mark.
    // Reported even when the revision did not move: it proves the cache is
    // current (X-Consul-LastContact).
    if (m.header.revision >= revision_) {
      revision_ = m.header.revision;
      ++counters_.progress;
      if (sink_.on_progress) sink_.on_progress(revision_);
    }
    return;
  }
  on_events(m);
}

void WatchFeed::on_events(const etcd::WatchMessage& m) {
  // One batch per revision: a catching-up watch packs several into a message.
  size_t begin = 0;
  while (begin < m.events.size()) {
    size_t end = begin + 1;
    while (end < m.events.size() &&
           m.events[end].kv.mod_revision == m.events[begin].kv.mod_revision)
      ++end;
    on_revision(std::span(m.events).subspan(begin, end - begin));
    begin = end;
  }
}

void WatchFeed::on_revision(std::span<const etcd::WatchEvent> events) {
  int64_t rev = events.front().kv.mod_revision;
  if (rev <= revision_) return;  // a replay of what a resumed stream already delivered
  state::Batch batch;
  batch.reserve(events.size());
  std::vector<LeaderRow> leader_rows;
  for (const auto& ev : events) {
    if (is_leader_key(ev.kv.key)) {
      bool deleted = ev.type == etcd::WatchEvent::Type::del;
      leader_rows.push_back({ev.kv.key, deleted ? std::string() : ev.kv.value,
                             ev.kv.create_revision, deleted});
      continue;
    }
    state::Mutation mutation;
    RowStatus row = ev.type == etcd::WatchEvent::Type::del ? decode_row_delete(ev.kv.key, mutation)
                                                           : decode_row(ev.kv, mutation);
    if (row.ok()) {
      batch.push_back(std::move(mutation));
    } else if (row.code == RowStatus::Code::malformed) {
      ++counters_.malformed_rows;
      log::error("server", "skipping an etcd row cairn cannot read", {{"error", row.error}});
    }
  }
  revision_ = rev;
  ++counters_.batches;
  if (!leader_rows.empty() && sink_.on_leader_rows) sink_.on_leader_rows(std::move(leader_rows), false);
  if (sink_.on_batch) sink_.on_batch(rev, std::move(batch));
}

void WatchFeed::on_stream_done(etcd::CallResult result) {
  if (!running_) return;
  log::warn(
      "server", "etcd watch stream ended; resuming",
      {{"revision", std::to_string(revision_)},
       {"detail", result.detail.empty() ? std::to_string(result.http_status) : result.detail}});
  restart_later(false);
}

void WatchFeed::restart_later(bool relist) {
  if (!running_) return;
  ++stream_generation_;  // whatever the old stream still says is ignored
  if (stream_) {
    // This may run inside the stream's own callbacks: cancel it now, free it
    // from the retry timer, when none of its frames are on the stack.
    retired_stream_ = std::move(stream_);
    retired_stream_->cancel();
  }
  stream_created_ = false;
  ++counters_.stream_restarts;
  retry_timer_.start(kRetryMs, 0, [this, relist] {
    retired_stream_.reset();
    if (!running_) return;
    if (relist || revision_ == 0) {
      list_revision_ = 0;
      list_page({});
    } else {
      open_stream();
    }
  });
}

void WatchFeed::check_stall() {
  if (!running_ || !stream_) return;
  if (uv_now(loop_) - last_contact_ms_ > kStallMs) {
    log::warn("server", "etcd watch silent too long; reopening it");
    restart_later(false);
  }
}

}  // namespace cairn::server
