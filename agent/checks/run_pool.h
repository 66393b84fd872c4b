// Per-run state (a socket, a response parser, buffers) is only needed while
// a run is in flight. Checks borrow it from this pool and give it back, so
// 10,000 checks hold only as many as are running at once, and a warm pool
// allocates nothing per run. One pool per agent (in CheckEnv), used on the
// loop's thread only.
#pragma once

#include <deque>
#include <memory>
#include <typeindex>
#include <unordered_map>
#include <utility>

namespace cairn::checks {

class RunPool {
 public:
  // What can be pooled: per-run state types derive from this.
  class Item {
   public:
    virtual ~Item() = default;
  };

  // An idle T from the pool, or a new one built from args.
  template <class T, class... Args>
  std::unique_ptr<T> take(Args&&... args) {
    auto& idle = idle_[std::type_index(typeid(T))];
    if (!idle.empty()) {
      // Oldest first: its sockets' handles have had the longest to finish
      // closing, so their memory is reused instead of replaced.
      std::unique_ptr<Item> item = std::move(idle.front());
      idle.pop_front();
      return std::unique_ptr<T>(static_cast<T*>(item.release()));
    }
    return std::make_unique<T>(std::forward<Args>(args)...);
  }

  // Back to the pool; the caller has made it idle (sockets closed). A burst of
  // runs does not keep its memory forever: past kMaxIdle the item is freed.
  template <class T>
  void give(std::unique_ptr<T> item) {
    auto& idle = idle_[std::type_index(typeid(T))];
    if (idle.size() < kMaxIdle) idle.push_back(std::move(item));
  }

  size_t idle(const std::type_info& type) const {
    auto it = idle_.find(std::type_index(type));
    return it == idle_.end() ? 0 : it->second.size();
  }

  static constexpr size_t kMaxIdle = 64;

 private:
  std::unordered_map<std::type_index, std::deque<std::unique_ptr<Item>>> idle_;
};

}  // namespace cairn::checks
