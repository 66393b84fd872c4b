#include "agent/dns/recursor.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "agent/dns/counters.h"
#include "agent/state/store.h"
#include "common/dns/ldns.h"
#include "common/log.h"
#include "common/net/address.h"
#include "common/random.h"

namespace cairn::dns {

namespace {

// Forwarded queries in flight at once; beyond this new ones get SERVFAIL at
// once rather than more sockets (each holds one).

struct SendReq {
  uv_write_t req;
  std::vector<uint8_t> data;
};

std::string lower_wire(const uint8_t* p, size_t n) {
  std::string s(reinterpret_cast<const char*>(p), n);
  return state::lower(s);
}

}  // namespace

std::string parse_upstream(const std::string& text, Upstream& out) {
  auto at = net::parse_endpoint(text, 53);
  if (!at)
    return "invalid recursor address \"" + text +
           "\": expected an IP address with an optional port";
  std::memset(&out.addr, 0, sizeof out.addr);
  std::memcpy(&out.addr, &at->addr, at->len());
  out.text = at->to_string();
  return "";
}

struct Recursor::Job {
  uint64_t id = 0;
  std::vector<uint8_t> query;  // as sent upstream, with our ID
  uint16_t client_id = 0;
  uint16_t upstream_id = 0;
  std::string qname_lc;  // wire, lower-cased
  uint16_t qtype = 0, qclass = 0;
  Transport transport = Transport::udp;
  Done done;
  std::vector<size_t> order;
  size_t next = 0;       // position in order of the upstream being tried
  uint32_t attempt = 0;  // bumped per upstream, so late callbacks of an old one are ignored
  std::unique_ptr<UvHandle<uv_udp_t>> udp;
  std::unique_ptr<UvHandle<uv_tcp_t>> tcp;
  std::unique_ptr<Timer> timer;
  std::vector<uint8_t> tcp_in;
  uint64_t started_ms = 0;
  Recursor* owner = nullptr;
  std::shared_ptr<const std::vector<Upstream>> upstreams;  // as configured when it started

  const Upstream* upstream() const { return &(*upstreams)[order[next]]; }
  void drop_sockets() {
    udp.reset();
    tcp.reset();
    if (timer) timer->stop();
    tcp_in.clear();
  }
};

namespace {

// A connect request can outlive its job (a socket closed while connecting
// still calls back): it finds the job again through a weak reference.
struct ConnectReq {
  uv_connect_t req;
  std::weak_ptr<Recursor::Job> job;
  uint32_t attempt;
};

}  // namespace

Recursor::Recursor(uv_loop_t* loop, Counters& counters)
    : loop_(loop), counters_(counters), read_buf_(kMaxMessage) {}

Recursor::~Recursor() {
  close();
}

void Recursor::configure(std::vector<Upstream> upstreams, Nanos timeout, bool random_order,
                         size_t max_in_flight) {
  upstreams_ = std::make_shared<const std::vector<Upstream>>(std::move(upstreams));
  timeout_ms_ = static_cast<uint64_t>(std::max<Nanos>(timeout, kMillisecond) / kMillisecond);
  random_order_ = random_order;
  max_in_flight_ = max_in_flight;
}

void Recursor::close() {
  auto jobs = std::move(jobs_);
  jobs_.clear();
  for (auto& [_, j] : jobs) j->drop_sockets();
}

bool Recursor::resolve(std::span<const uint8_t> query, Transport transport, Done done) {
  if (upstreams_->empty()) return false;
  if (jobs_.size() >= max_in_flight_) {
    counters_.recursion_overload();
    return false;
  }
  Query q;
  if (parse_query(query, q) != ParseStatus::ok) return false;
  auto job = std::make_shared<Job>();
  job->id = next_id_++;
  job->query.assign(query.begin(), query.end());
  job->client_id = q.id;
  job->upstream_id = static_cast<uint16_t>(random_u64());
  job->query[0] = static_cast<uint8_t>(job->upstream_id >> 8);
  job->query[1] = static_cast<uint8_t>(job->upstream_id);
  job->qname_lc = std::string(q.name_wire_lc());
  job->qtype = q.qtype;
  job->qclass = q.qclass;
  job->transport = transport;
  job->done = std::move(done);
  job->started_ms = uv_now(loop_);
  job->owner = this;
  job->upstreams = upstreams_;
  for (size_t i = 0; i < upstreams_->size(); ++i) job->order.push_back(i);
  if (random_order_)
    for (size_t i = job->order.size(); i > 1; --i)
      std::swap(job->order[i - 1], job->order[random_below(i)]);
  jobs_.emplace(job->id, job);
  attempt(*job);
  return true;
}

void Recursor::attempt(Job& job) {
  job.drop_sockets();
  ++job.attempt;
  if (!job.timer) job.timer = std::make_unique<Timer>(loop_);
  std::weak_ptr<Job> weak = jobs_.at(job.id);
  uint32_t n = job.attempt;
  job.timer->start(timeout_ms_, 0, [this, weak, n] {
    auto j = weak.lock();
    if (j && j->attempt == n) fail_attempt(*j, "i/o timeout");
  });
  if (job.transport == Transport::udp)
    attempt_udp(job);
  else
    attempt_tcp(job);
}

void Recursor::attempt_udp(Job& job) {
  const Upstream* up = job.upstream();
  job.udp = std::make_unique<UvHandle<uv_udp_t>>();
  uv_udp_t* h = job.udp->get();
  if (uv_udp_init_ex(loop_, h, up->addr.ss_family) != 0) return fail_attempt(job, "socket failed");
  job.udp->mark_initialized();
  h->data = &job;
  // A connected socket: the kernel drops datagrams from anyone but the upstream.
  int r = uv_udp_connect(h, reinterpret_cast<const sockaddr*>(&up->addr));
  if (r == 0)
    r = uv_udp_recv_start(
        h,
        [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
          auto* j = static_cast<Job*>(handle->data);
          if (!j) {
            *buf = uv_buf_init(nullptr, 0);
            return;
          }
          // Replies are handled inside the read callback, so one buffer serves every job.
          std::vector<uint8_t>& b = j->owner->read_buf_;
          *buf = uv_buf_init(reinterpret_cast<char*>(b.data()), static_cast<unsigned>(b.size()));
        },
        [](uv_udp_t* handle, ssize_t nread, const uv_buf_t* buf, const sockaddr*, unsigned flags) {
          auto* j = static_cast<Job*>(handle->data);
          if (!j || nread == 0) return;
          if (nread < 0) return j->owner->fail_attempt(*j, uv_strerror(static_cast<int>(nread)));
          if (flags & UV_UDP_PARTIAL) return;  // not a whole DNS message
          j->owner->on_reply(*j,
                             std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(buf->base),
                                                      static_cast<size_t>(nread)));
        });
  if (r != 0) return fail_attempt(job, uv_strerror(r));
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(job.query.data()),
                             static_cast<unsigned>(job.query.size()));
  r = uv_udp_try_send(h, &buf, 1, nullptr);
  if (r < 0) return fail_attempt(job, uv_strerror(r));
}

void Recursor::attempt_tcp(Job& job) {
  const Upstream* up = job.upstream();
  job.tcp = std::make_unique<UvHandle<uv_tcp_t>>();
  uv_tcp_t* h = job.tcp->get();
  uv_tcp_init(loop_, h);
  job.tcp->mark_initialized();
  h->data = &job;
  auto* req = new ConnectReq;
  req->job = jobs_.at(job.id);
  req->attempt = job.attempt;
  int r = uv_tcp_connect(&req->req, h, reinterpret_cast<const sockaddr*>(&up->addr),
                         [](uv_connect_t* c, int status) {
                           std::unique_ptr<ConnectReq> req(reinterpret_cast<ConnectReq*>(c));
                           auto j = req->job.lock();
                           if (!j || j->attempt != req->attempt || !j->tcp) return;
                           j->owner->on_connected(*j, status);
                         });
  if (r != 0) {
    delete req;
    fail_attempt(job, uv_strerror(r));
  }
}

void Recursor::on_connected(Job& job, int status) {
  if (status != 0) return fail_attempt(job, uv_strerror(status));
  auto* stream = reinterpret_cast<uv_stream_t*>(job.tcp->get());
  auto* w = new SendReq;
  w->data.resize(2 + job.query.size());
  w->data[0] = static_cast<uint8_t>(job.query.size() >> 8);
  w->data[1] = static_cast<uint8_t>(job.query.size());
  std::memcpy(w->data.data() + 2, job.query.data(), job.query.size());
  uv_buf_t buf =
      uv_buf_init(reinterpret_cast<char*>(w->data.data()), static_cast<unsigned>(w->data.size()));
  if (uv_write(&w->req, stream, &buf, 1,
               [](uv_write_t* req, int) { delete reinterpret_cast<SendReq*>(req); }) != 0) {
    delete w;
    return fail_attempt(job, "write failed");
  }
  uv_read_start(
      stream,
      [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        auto* j = static_cast<Job*>(handle->data);
        if (!j) {
          *buf = uv_buf_init(nullptr, 0);
          return;
        }
        std::vector<uint8_t>& b = j->owner->read_buf_;
        *buf = uv_buf_init(reinterpret_cast<char*>(b.data()), static_cast<unsigned>(b.size()));
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        auto* j = static_cast<Job*>(s->data);
        if (!j) return;
        if (nread < 0) {
          return j->owner->fail_attempt(
              *j, nread == UV_EOF ? "connection closed" : uv_strerror(static_cast<int>(nread)));
        }
        j->tcp_in.insert(j->tcp_in.end(), buf->base, buf->base + nread);
        if (j->tcp_in.size() < 2) return;
        size_t len = (size_t{j->tcp_in[0]} << 8) | j->tcp_in[1];
        if (j->tcp_in.size() < 2 + len) return;
        std::vector<uint8_t> msg(j->tcp_in.begin() + 2,
                                 j->tcp_in.begin() + 2 + static_cast<long>(len));
        j->owner->on_reply(*j, msg);
      });
}

void Recursor::on_reply(Job& job, std::span<const uint8_t> reply) {
  // Only the reply to what we asked: our ID, a response, our question.
  if (reply.size() < kHeaderSize) return;
  uint16_t id = static_cast<uint16_t>((reply[0] << 8) | reply[1]);
  if (id != job.upstream_id || !(reply[2] & 0x80)) return;
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, reply.data(), reply.size()) != LDNS_STATUS_OK) {
    // A truncated UDP answer may not parse to the end; its header still counts.
    if (!(reply[2] & 0x02)) return fail_attempt(job, "malformed reply");
  } else {
    ldns_rr_list* qs = ldns_pkt_question(pkt);
    bool same = ldns_rr_list_rr_count(qs) == 1;
    if (same) {
      ldns_rr* q = ldns_rr_list_rr(qs, 0);
      ldns_rdf* owner = ldns_rr_owner(q);
      same = ldns_rr_get_type(q) == job.qtype && ldns_rr_get_class(q) == job.qclass &&
             lower_wire(ldns_rdf_data(owner), ldns_rdf_size(owner)) == job.qname_lc;
    }
    ldns_pkt_free(pkt);
    if (!same) return;  // someone else's answer: keep waiting
  }
  uint8_t rcode = reply[3] & 0x0F;
  if (rcode != kRcodeNoError && rcode != kRcodeNxDomain) {
    // SERVFAIL, REFUSED...: the next upstream may do better.
    log::debug("dns", "recurse failed for question",
               {{"recursor", job.upstream()->text}, {"rcode", std::to_string(rcode)}});
    counters_.recursor_failure();
    job.next++;
    if (job.next < job.order.size()) return attempt(job);
    return finish(job.id, {});
  }
  std::vector<uint8_t> out(reply.begin(), reply.end());
  out[0] = static_cast<uint8_t>(job.client_id >> 8);
  out[1] = static_cast<uint8_t>(job.client_id);
  counters_.recursed(true, rcode, static_cast<double>(uv_now(loop_) - job.started_ms));
  finish(job.id, out);
}

void Recursor::fail_attempt(Job& job, const std::string& why) {
  log::error("dns", "recurse failed", {{"error", why}, {"recursor", job.upstream()->text}});
  counters_.recursor_failure();
  job.next++;
  if (job.next < job.order.size()) return attempt(job);
  finish(job.id, {});
}

void Recursor::finish(uint64_t id, std::span<const uint8_t> reply) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  std::shared_ptr<Job> job = std::move(it->second);
  jobs_.erase(it);
  job->drop_sockets();
  if (reply.empty())
    counters_.recursed(false, kRcodeServFail, static_cast<double>(uv_now(loop_) - job->started_ms));
  if (job->done) job->done(reply);
}

}  // namespace cairn::dns
