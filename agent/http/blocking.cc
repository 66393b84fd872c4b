#include "agent/http/blocking.h"

#include <memory>

#include "agent/agent.h"
#include "agent/forward/catalog_mirror.h"
#include "agent/http/agent_cache.h"
#include "agent/http/read_cache.h"
#include "agent/http/reply.h"
#include "common/random.h"
#include "common/uv_handle.h"

namespace cairn::http_api {

namespace {

// What X-Consul-KnownLeader and X-Consul-LastContact say: on a server over
// etcd, whether a cairn leader is known and how long ago the watch cache last
// heard from etcd (a consistent read has just heard: 0); in -dev, this agent;
// on a client answering from its streamed view, how old that view may be
// (0 while the stream from its server is open).
struct ContactState {
  bool known_leader = true;
  uint64_t last_contact_ms = 0;
};

ContactState contact_state(const Agent& agent, const QueryOptions& opts) {
  ContactState c;
  if (const server::ReplicatedState* rs = agent.replicated()) {
    c.known_leader = !rs->leader_value().empty();
    if (opts.stale) c.last_contact_ms = rs->last_contact_age_ms();
  } else if (const forward::CatalogMirror* view = agent.catalog_mirror()) {
    c.known_leader = view->current();
    c.last_contact_ms = view->age_ms();
  }
  return c;
}

void finish(const ExchangePtr& ex, const QueryOptions& opts, ReadResult& r, const Agent& agent) {
  http::Response& resp = r.response;
  // Never 0: clients would spin (reference 0.3).
  resp.set_header("X-Consul-Index", std::to_string(r.index == 0 ? 1 : r.index));
  ContactState c = contact_state(agent, opts);
  resp.set_header("X-Consul-Knownleader", c.known_leader ? "true" : "false");
  resp.set_header("X-Consul-Lastcontact", std::to_string(c.last_contact_ms));
  resp.set_header("X-Consul-Effective-Consistency",
                  opts.stale ? "stale" : (opts.consistent ? "consistent" : "leader"));
  add_agent_cache_headers(ex->request, resp);
  respond(ex, std::move(resp));
}

// Confirms that this server's cache holds every write committed so far (the
// barrier of a server over etcd), then runs done(true), or done(false) when
// it cannot (no quorum).
using Confirm = std::function<void(std::function<void(bool ok)> done)>;

void respond_no_leader(const ExchangePtr& ex) {
  respond_error(ex, 500, "No cluster leader");
}

class ParkedQuery : public std::enable_shared_from_this<ParkedQuery> {
 public:
  // confirm (may be empty) runs before an answer that the wait ran out: the
  // cache must not call "nothing new" what etcd already committed.
  ParkedQuery(Agent& agent, ExchangePtr ex, QueryOptions opts, ReadFn read, Confirm confirm)
      : agent_(agent),
        ex_(std::move(ex)),
        opts_(std::move(opts)),
        read_(std::move(read)),
        confirm_(std::move(confirm)),
        timer_(agent.loop()),
        // Consul's gauge of blocking queries in flight; tests wait on it
        // instead of sleeping until a query has parked.
        parked_(agent.metrics().gauge("consul.rpc.queries_blocking",
                                      "Blocking queries parked, waiting for a change")) {}

  ~ParkedQuery() { unwatch(); }

  void park(const std::vector<std::string>& keys, uint64_t timeout_ms) {
    auto self = shared_from_this();
    parked_.set(parked_.value + 1);
    counted_ = true;
    watch_ = agent_.store().watch(keys, [self] { self->on_change(); });
    // The timer lives inside this object: it must not keep it alive.
    std::weak_ptr<ParkedQuery> weak = self;
    timer_.start(timeout_ms, 0, [weak] {
      if (auto p = weak.lock()) p->on_timeout();
    });
    ex_->on_close([self] { self->cancel(); });
  }

 private:
  void unpark() {
    done_ = true;
    if (counted_) parked_.set(parked_.value - 1);
    counted_ = false;
  }

  void unwatch() {
    if (watch_) agent_.store().unwatch(watch_);
    watch_ = 0;
  }

  void on_change() {
    watch_ = 0;  // fired watches are gone
    if (done_) return;
    ReadResult r = read_();
    if (r.index > opts_.index) {
      complete(r);
      return;
    }
    // Woken without a newer result (e.g. a sibling key changed): wait on.
    auto self = shared_from_this();
    watch_ = agent_.store().watch(r.watch, [self] { self->on_change(); });
  }

  void on_timeout() {
    if (done_) return;
    if (!confirm_) {
      ReadResult r = read_();
      complete(r);
      return;
    }
    if (confirming_) return;
    // The watch stays armed meanwhile: a change the cache applies before the
    // barrier returns is answered at once, so no value is skipped.
    confirming_ = true;
    std::weak_ptr<ParkedQuery> weak = shared_from_this();
    confirm_([weak](bool ok) {
      if (auto p = weak.lock()) p->on_confirmed(ok);
    });
  }

  void on_confirmed(bool ok) {
    if (done_) return;
    if (!ok) {
      cancel();
      respond_no_leader(ex_);
      return;
    }
    ReadResult r = read_();
    complete(r);
  }

  void complete(ReadResult& r) {
    unpark();
    unwatch();
    timer_.stop();
    finish(ex_, opts_, r, agent_);
  }

  void cancel() {
    unpark();
    unwatch();
    timer_.stop();
  }

  Agent& agent_;
  ExchangePtr ex_;
  QueryOptions opts_;
  ReadFn read_;
  Confirm confirm_;
  bool confirming_ = false;
  Timer timer_;
  state::Store::WatchId watch_ = 0;
  Gauge& parked_;
  bool counted_ = false;  // in parked_
  bool done_ = false;
};

}  // namespace

namespace {

// Runs the read, or reuses a cached rendering of it while nothing it depends on changed.
ReadResult cached_read(Agent& agent, const std::string& key, const ReadFn& read) {
  ReadResult r;
  if (agent.read_cache().lookup(key, agent.store(), r)) return r;
  r = read();
  if (!r.response.shared_body) {
    r.response.shared_body = std::make_shared<const std::string>(std::move(r.response.body));
    r.response.body.clear();
  }
  agent.read_cache().insert(key, agent.store(), r);
  return r;
}

void serve_read_now(Agent& agent, const ExchangePtr& ex, const QueryOptions& opts, ReadFn read_fn,
                    Confirm confirm) {
  // Only reads with the default rendering are shared; ?filter= results are cached too,
  // since the filter text is part of the key.
  // ?near= orders by coordinates, which change without a store index: not cached.
  ReadFn read = std::move(read_fn);
  if (opts.near.empty())
    read = [&agent, key = ReadCache::key_for(ex->request), fn = std::move(read)] {
      return cached_read(agent, key, fn);
    };
  ReadResult r = read();
  // Not blocking, or the client is behind what this server holds: answer now.
  if (opts.index == 0 || r.index > opts.index) {
    finish(ex, opts, r, agent);
    return;
  }
  if (opts.wait <= 0 || r.watch.empty()) {
    if (!confirm) {
      finish(ex, opts, r, agent);
      return;
    }
    confirm([&agent, ex, opts, read = std::move(read)](bool ok) {
      if (!ok) return respond_no_leader(ex);
      ReadResult now = read();
      finish(ex, opts, now, agent);
    });
    return;
  }
  uint64_t wait_ms = static_cast<uint64_t>(opts.wait / kMillisecond);
  wait_ms += random_below(wait_ms / 16 + 1);
  auto parked = std::make_shared<ParkedQuery>(agent, ex, opts, std::move(read), std::move(confirm));
  parked->park(r.watch, wait_ms);
}

// Whether a read on a server over etcd may be answered from the cache as it
// is: ?stale, unless the cache has been out of touch for longer than ?max_stale.
bool stale_allowed(const server::ReplicatedState& rs, const QueryOptions& opts) {
  if (!opts.stale) return false;
  if (opts.max_stale <= 0) return true;
  return rs.last_contact_age_ms() <= static_cast<uint64_t>(opts.max_stale / kMillisecond);
}

}  // namespace

void serve_read(Agent& agent, const ExchangePtr& ex, const QueryOptions& opts, ReadFn read_fn) {
  server::ReplicatedState* rs = agent.replicated();
  if (rs == nullptr || stale_allowed(*rs, opts)) {
    serve_read_now(agent, ex, opts, std::move(read_fn), nullptr);
    return;
  }
  // A blocking query is served by this server's cache while the cache is in
  // touch with the quorum (a leader is known): at once when the cache holds
  // something newer than the client's index, else at the cache's next change.
  // A barrier (an etcd linearizable read) waits behind the writes etcd is
  // syncing to disk, so a watch that took one per request fell behind a
  // writer and skipped values; the barrier now only confirms the answer that
  // nothing changed, when the wait runs out.
  if (opts.index > 0 && !opts.consistent && !rs->leader_value().empty()) {
    Confirm confirm = [&agent](std::function<void(bool)> done) {
      if (server::ReplicatedState* r = agent.replicated())
        r->barrier(std::move(done));
      else
        done(true);
    };
    serve_read_now(agent, ex, opts, std::move(read_fn), std::move(confirm));
    return;
  }
  // Default and ?consistent reads see every write committed before they
  // arrived, on whichever server they land.
  rs->barrier([&agent, ex, opts, read_fn = std::move(read_fn)](bool ok) mutable {
    if (!ok) {
      respond_no_leader(ex);
      return;
    }
    serve_read_now(agent, ex, opts, std::move(read_fn), nullptr);
  });
}

}  // namespace cairn::http_api
