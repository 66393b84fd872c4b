#include "agent/dns/dns_loops.h"

#include <uv.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <variant>

#include "agent/dns/dns_server.h"
#include "agent/state/catalog_replica.h"
#include "common/log.h"

namespace cairn::dns {

namespace {

constexpr uint64_t kPublishMetricsMs = 1000;

}  // namespace

// An extra loop's way to other datacenters: through the agent's loop.
class DnsLoops::Relay : public RemoteRecords {
 public:
  Relay(DnsLoops& owner, Loop& loop) : owner_(owner), loop_(loop) {}
  void fetch(const RemoteQuestion& question, std::function<void(RemoteRows)> done) override {
    uint64_t id = ++last_id_;
    pending_.emplace(id, std::move(done));
    owner_.ask({&loop_, id, question});
  }
  // The loop's thread: the rows came back.
  void fetched(uint64_t id, RemoteRows rows) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    auto done = std::move(it->second);
    pending_.erase(it);
    done(std::move(rows));
  }

 private:
  DnsLoops& owner_;
  Loop& loop_;
  uint64_t last_id_ = 0;
  std::map<uint64_t, std::function<void(RemoteRows)>> pending_;
};

struct DnsLoops::Loop {
  // What the agent's loop posts to this one.
  struct Replay {
    state::Batch batch;
    uint64_t index;
    bool snapshot = false;  // the whole catalog, replacing the replica's (a server's re-list)
  };
  struct Reload {
    config::Config cfg;
  };
  struct Stop {};
  struct Fetched {
    uint64_t id;
    RemoteRows rows;
  };
  struct Coverage {
    std::vector<std::string> held;
  };
  using Message = std::variant<Replay, Reload, Stop, Fetched, Coverage>;

  // What the replica holds of a client agent's partial view, as the agent's
  // loop last said (in order with the rows). Until it says, everything. The
  // services asked here are reported to the agent's loop once a second, so
  // that their subscriptions stay alive (a flag per name: no allocation on
  // the answer path).
  struct HeldServices final : ViewCoverage {
    bool partial = false;
    std::map<std::string, bool, std::less<>> held;  // name: asked since the last report
    bool covers(std::string_view service_lc) override {
      if (!partial) return true;
      auto it = held.find(service_lc);
      if (it == held.end()) return false;
      it->second = true;
      return true;
    }
    bool covers_node(std::string_view node_lc) override {
      if (!partial) return true;
      assign_node_topic(node_key, node_lc);
      return covers(node_key);
    }
    std::string node_key;  // reused
    std::vector<std::string> take_used() {
      std::vector<std::string> used;
      for (auto& [name, asked] : held)
        if (std::exchange(asked, false)) used.push_back(name);
      return used;
    }
  };

  uv_loop_t loop{};
  uv_async_t wake{};
  uv_timer_t publish{};
  state::Store replica;
  HeldServices held;
  MetricsRegistry metrics;
  std::unique_ptr<DnsServer> dns;
  std::unique_ptr<Relay> relay;
  DnsLoops* owner = nullptr;  // where asked services are reported (with a relay)
  std::thread thread;

  std::mutex inbox_mu;
  std::vector<Message> inbox;
  mutable std::mutex published_mu;
  std::unique_ptr<MetricsRegistry> published = std::make_unique<MetricsRegistry>();

  // Main thread, before the loop runs: nothing else touches it yet.
  std::string start(const state::Store& store, const config::Config& cfg, DnsLoops* relay_to) {
    uv_loop_init(&loop);
    if (store.index() > 0) replica.apply(state::catalog_snapshot(store), store.index());
    dns = std::make_unique<DnsServer>(&loop, replica, metrics, DnsServer::Role::udp_only);
    if (relay_to) {
      owner = relay_to;
      relay = std::make_unique<Relay>(*relay_to, *this);
      dns->set_remote(relay.get());
      dns->set_view(&held);
    }
    std::string err = dns->start(cfg);
    uv_async_init(&loop, &wake, [](uv_async_t* h) { static_cast<Loop*>(h->data)->drain(); });
    wake.data = this;
    uv_timer_init(&loop, &publish);
    publish.data = this;
    if (!err.empty()) {
      shut();
      uv_run(&loop, UV_RUN_DEFAULT);
      dns.reset();
      uv_run(&loop, UV_RUN_DEFAULT);
      uv_loop_close(&loop);
      return err;
    }
    uv_timer_start(
        &publish,
        [](uv_timer_t* h) {
          auto* self = static_cast<Loop*>(h->data);
          self->publish_metrics();
          self->report_used();
        },
        kPublishMetricsMs, kPublishMetricsMs);
    thread = std::thread([this] { run(); });
    return "";
  }

  void run() {
    uv_run(&loop, UV_RUN_DEFAULT);  // until Stop closed every handle
    dns.reset();
    uv_run(&loop, UV_RUN_DEFAULT);  // close callbacks of the server's handles
    uv_loop_close(&loop);
  }

  // Any thread.
  void post(Message m) {
    {
      std::lock_guard lock(inbox_mu);
      inbox.push_back(std::move(m));
    }
    uv_async_send(&wake);
  }

  // The loop's thread.
  void drain() {
    std::vector<Message> batch;
    {
      std::lock_guard lock(inbox_mu);
      batch.swap(inbox);
    }
    for (auto& m : batch) {
      if (auto* r = std::get_if<Replay>(&m)) {
        if (r->snapshot)
          replica.load_snapshot(r->batch, r->index);
        else if (r->index >= replica.index())  // equal: a client's view adding a subscription
          replica.apply(r->batch, r->index);
      } else if (auto* c = std::get_if<Reload>(&m)) {
        dns->reload(c->cfg);
      } else if (auto* c = std::get_if<Coverage>(&m)) {
        held.partial = true;
        std::map<std::string, bool, std::less<>> now;
        for (auto& name : c->held) {
          auto was = held.held.find(name);
          now.emplace(std::move(name), was != held.held.end() && was->second);
        }
        held.held = std::move(now);
      } else if (auto* f = std::get_if<Fetched>(&m)) {
        if (relay) relay->fetched(f->id, std::move(f->rows));
      } else {
        publish_metrics();
        shut();
        return;
      }
    }
  }

  void report_used() {
    if (owner == nullptr || !held.partial) return;
    if (std::vector<std::string> used = held.take_used(); !used.empty()) owner->used(std::move(used));
  }

  void publish_metrics() {
    auto fresh = std::make_unique<MetricsRegistry>();
    fresh->add_from(metrics);
    std::lock_guard lock(published_mu);
    published = std::move(fresh);
  }

  void shut() {
    dns->close();
    uv_timer_stop(&publish);
    uv_close(reinterpret_cast<uv_handle_t*>(&publish), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&wake), nullptr);
  }
};

std::unique_ptr<DnsLoops> DnsLoops::start(const state::Store& store, const config::Config& cfg,
                                          int port, int count, std::string& error,
                                          uv_loop_t* main_loop, RemoteRecords* remote) {
  std::unique_ptr<DnsLoops> loops(new DnsLoops());
  config::Config loop_cfg = cfg;
  loop_cfg.ports.dns = port;
  DnsLoops* relay_to = nullptr;
  if (main_loop && remote) {
    loops->remote_ = remote;
    uv_async_init(main_loop, loops->asks_wake_.get(), [](uv_async_t* h) {
      if (h->data) static_cast<DnsLoops*>(h->data)->answer_asks();
    });
    loops->asks_wake_.mark_initialized();
    loops->asks_wake_.get()->data = loops.get();
    uv_unref(loops->asks_wake_.base());  // never what keeps the agent running
    relay_to = loops.get();
  }
  for (int i = 0; i < count; ++i) {
    auto loop = std::make_unique<Loop>();
    if (std::string err = loop->start(store, loop_cfg, relay_to); !err.empty()) {
      error = "DNS loop " + std::to_string(i + 2) + ": " + err;
      return nullptr;  // the loops already running stop in ~DnsLoops
    }
    loops->loops_.push_back(std::move(loop));
  }
  log::info("dns", "extra UDP loops answering",
            {{"loops", std::to_string(count)}, {"port", std::to_string(port)}});
  return loops;
}

void DnsLoops::ask(Ask ask) {
  {
    std::lock_guard lock(asks_mu_);
    asks_.push_back(std::move(ask));
  }
  uv_async_send(asks_wake_.get());
}

void DnsLoops::used(std::vector<std::string> names) {
  {
    std::lock_guard lock(asks_mu_);
    for (auto& n : names) used_.push_back(std::move(n));
  }
  uv_async_send(asks_wake_.get());
}

void DnsLoops::answer_asks() {
  std::vector<Ask> asks;
  std::vector<std::string> used;
  {
    std::lock_guard lock(asks_mu_);
    asks.swap(asks_);
    used.swap(used_);
  }
  if (!used.empty() && used_listener_) used_listener_(used);
  for (Ask& a : asks)
    remote_->fetch(a.question, [from = a.from, id = a.id, alive = alive_](RemoteRows rows) {
      if (*alive) from->post(Loop::Fetched{id, std::move(rows)});
    });
}

DnsLoops::~DnsLoops() {
  *alive_ = false;
  for (auto& l : loops_) l->post(Loop::Stop{});
  for (auto& l : loops_)
    if (l->thread.joinable()) l->thread.join();
}

void DnsLoops::replicate(std::span<const state::Mutation> batch, uint64_t index) {
  state::Batch catalog;
  for (const auto& m : batch)
    if (state::is_catalog_mutation(m)) catalog.push_back(m);
  if (catalog.empty()) return;
  for (size_t i = 0; i + 1 < loops_.size(); ++i) loops_[i]->post(Loop::Replay{catalog, index});
  loops_.back()->post(Loop::Replay{std::move(catalog), index});
}

void DnsLoops::replace(std::span<const state::Mutation> rows, uint64_t index) {
  state::Batch catalog;
  for (const auto& m : rows)
    if (state::is_catalog_mutation(m)) catalog.push_back(m);
  for (auto& l : loops_) l->post(Loop::Replay{catalog, index, true});
}

void DnsLoops::set_coverage(const std::vector<std::string>& held) {
  for (auto& l : loops_) l->post(Loop::Coverage{held});
}

void DnsLoops::reload(const config::Config& cfg) {
  for (auto& l : loops_) l->post(Loop::Reload{cfg});
}

void DnsLoops::add_metrics_to(MetricsRegistry& into) const {
  for (const auto& l : loops_) {
    std::lock_guard lock(l->published_mu);
    into.add_from(*l->published);
  }
}

}  // namespace cairn::dns
