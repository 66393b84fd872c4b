#include "dnsfwd/inflight.h"

namespace cairn::dnsfwd {

namespace {
size_t pow2_at_least(size_t n) {
  size_t c = 16;
  while (c < n) c <<= 1;
  return c;
}
}  // namespace

IdTable::IdTable(size_t initial) {
  slots_.assign(pow2_at_least(initial), Slot{});
  mask_ = slots_.size() - 1;
}

bool IdTable::insert(uint64_t key, uint32_t txn, uint8_t attempt) {
  if ((count_ + 1) * 2 > slots_.size()) grow();
  uint64_t i = mix(key) & mask_;
  while (slots_[i].key != kEmpty) {
    if (slots_[i].key == key) return false;
    i = (i + 1) & mask_;
  }
  slots_[i] = Slot{key, txn, attempt};
  ++count_;
  return true;
}

bool IdTable::find(uint64_t key, uint32_t& txn, uint8_t& attempt) const {
  uint64_t i = mix(key) & mask_;
  while (slots_[i].key != kEmpty) {
    if (slots_[i].key == key) {
      txn = slots_[i].txn;
      attempt = slots_[i].attempt;
      return true;
    }
    i = (i + 1) & mask_;
  }
  return false;
}

void IdTable::erase(uint64_t key) {
  uint64_t i = mix(key) & mask_;
  while (slots_[i].key != key) {
    if (slots_[i].key == kEmpty) return;
    i = (i + 1) & mask_;
  }
  // Backward-shift deletion keeps probe chains unbroken without tombstones.
  for (;;) {
    slots_[i].key = kEmpty;
    uint64_t j = i;
    for (;;) {
      j = (j + 1) & mask_;
      if (slots_[j].key == kEmpty) {
        --count_;
        return;
      }
      uint64_t home = mix(slots_[j].key) & mask_;
      bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!stays) break;
    }
    slots_[i] = slots_[j];
    i = j;
  }
}

void IdTable::grow() {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(old.size() * 2, Slot{});
  mask_ = slots_.size() - 1;
  count_ = 0;
  for (const auto& s : old)
    if (s.key != kEmpty) insert(s.key, s.txn, s.attempt);
}

KeyIndex::KeyIndex(size_t initial) {
  slots_.assign(pow2_at_least(initial), kEmpty);
  mask_ = slots_.size() - 1;
}

Transaction* KeyIndex::find(const CacheKey& key,
                            const std::vector<std::unique_ptr<Transaction>>& txns) const {
  uint64_t i = key.hash & mask_;
  while (slots_[i] != kEmpty) {
    Transaction* t = txns[slots_[i]].get();
    if (same_key(t->key(), key)) return t;
    i = (i + 1) & mask_;
  }
  return nullptr;
}

void KeyIndex::insert(const Transaction& t, const std::vector<std::unique_ptr<Transaction>>& txns) {
  if ((count_ + 1) * 2 > slots_.size()) grow(txns);
  uint64_t i = t.hash & mask_;
  while (slots_[i] != kEmpty) i = (i + 1) & mask_;
  slots_[i] = t.index;
  ++count_;
}

void KeyIndex::erase(const Transaction& t, const std::vector<std::unique_ptr<Transaction>>& txns) {
  uint64_t i = t.hash & mask_;
  while (slots_[i] != t.index) {
    if (slots_[i] == kEmpty) return;
    i = (i + 1) & mask_;
  }
  for (;;) {
    slots_[i] = kEmpty;
    uint64_t j = i;
    for (;;) {
      j = (j + 1) & mask_;
      if (slots_[j] == kEmpty) {
        --count_;
        return;
      }
      uint64_t home = txns[slots_[j]]->hash & mask_;
      bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!stays) break;
    }
    slots_[i] = slots_[j];
    i = j;
  }
}

void KeyIndex::grow(const std::vector<std::unique_ptr<Transaction>>& txns) {
  std::vector<uint32_t> old;
  old.swap(slots_);
  slots_.assign(old.size() * 2, kEmpty);
  mask_ = slots_.size() - 1;
  count_ = 0;
  for (uint32_t idx : old) {
    if (idx == kEmpty) continue;
    uint64_t i = txns[idx]->hash & mask_;
    while (slots_[i] != kEmpty) i = (i + 1) & mask_;
    slots_[i] = idx;
    ++count_;
  }
}

Transaction* InflightPool::acquire() {
  Transaction* t;
  if (!free_.empty()) {
    t = txns_[free_.back()].get();
    free_.pop_back();
  } else {
    auto fresh = std::make_unique<Transaction>();
    fresh->index = static_cast<uint32_t>(txns_.size());
    uv_timer_init(loop_, fresh->timer.get());
    fresh->timer.mark_initialized();
    t = fresh.get();
    txns_.push_back(std::move(fresh));
  }
  t->in_use = true;
  t->timer.get()->data = t;
  ++in_use_;
  return t;
}

void InflightPool::release(Transaction* t) {
  uv_timer_stop(t->timer.get());
  t->in_use = false;
  t->in_key_index = false;
  ++t->generation;
  t->group.reset();
  t->probe_target = nullptr;
  t->n_attempts = 0;
  t->tried_mask = 0;
  t->stale_at_ms = 0;
  t->waiters = t->last_waiter = nullptr;
  t->n_waiters = 0;
  free_.push_back(t->index);
  --in_use_;
}

Waiter* InflightPool::acquire_waiter() {
  if (!free_waiters_) {
    waiter_store_.push_back(std::make_unique<Waiter>());
    return waiter_store_.back().get();
  }
  Waiter* w = free_waiters_;
  free_waiters_ = w->next;
  w->next = nullptr;
  return w;
}

void InflightPool::release_waiter(Waiter* w) {
  w->next = free_waiters_;
  free_waiters_ = w;
}

}  // namespace cairn::dnsfwd
