#include "agent/local/persister.h"

#include <array>

#include "common/files.h"
#include "common/log.h"
#include "common/sha256.h"

namespace cairn::local {

struct Persister::Work {
  uv_work_t req;
  Persister* owner;
  std::vector<Op> ops;
};

Persister::Persister(uv_loop_t* loop, std::string data_dir) : loop_(loop), dir_(std::move(data_dir)) {}

Persister::~Persister() {
  // The thread-pool job may still be running; it only touches its own Work.
  if (in_flight_) in_flight_->owner = nullptr;
  flush();
}

void Persister::write(const std::string& path, std::string content, Done done) {
  if (!enabled()) {
    if (done) done("");
    return;
  }
  queue_.push_back(Op{false, path, std::move(content), std::move(done), ""});
  kick();
}

void Persister::remove(const std::string& path, Done done) {
  if (!enabled()) {
    if (done) done("");
    return;
  }
  queue_.push_back(Op{true, path, "", std::move(done), ""});
  kick();
}

void Persister::run_ops(std::vector<Op>& ops) {
  for (Op& op : ops) {
    std::string dir = op.path.substr(0, op.path.rfind('/'));
    if (!make_dirs(dir, 0700, op.error)) continue;
    if (op.remove)
      remove_file_durable(op.path, op.error);
    else
      write_file_atomic(op.path, op.content, op.error);
  }
}

void Persister::kick() {
  if (in_flight_ || queue_.empty()) return;
  auto* work = new Work;
  work->owner = this;
  work->req.data = work;
  while (!queue_.empty()) {
    Op op = std::move(queue_.front());
    queue_.pop_front();
    op.path = dir_ + "/" + op.path;
    work->ops.push_back(std::move(op));
  }
  in_flight_ = work;
  uv_queue_work(
      loop_, &work->req, [](uv_work_t* req) { run_ops(static_cast<Work*>(req->data)->ops); },
      [](uv_work_t* req, int) {
        auto* w = static_cast<Work*>(req->data);
        Persister* self = w->owner;
        if (self) self->in_flight_ = nullptr;
        for (Op& op : w->ops) {
          if (!op.error.empty()) log::error("agent", "persisting state failed", {{"error", op.error}});
          if (op.done) op.done(op.error);
        }
        delete w;
        if (self) self->kick();
      });
}

void Persister::flush() {
  if (queue_.empty()) return;
  std::vector<Op> ops;
  while (!queue_.empty()) {
    Op op = std::move(queue_.front());
    queue_.pop_front();
    op.path = dir_ + "/" + op.path;
    ops.push_back(std::move(op));
  }
  run_ops(ops);
  for (Op& op : ops)
    if (op.done) op.done(op.error);
}

std::string persisted_name(const std::string& id) {
  std::array<uint8_t, 32> md = sha256(id);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < 16; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out + ".json";
}

}  // namespace cairn::local
