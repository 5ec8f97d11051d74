#pragma once
// IdIndex: a fixed-capacity open-addressing map from a nonzero uint64 id to a uint32 slot
// number. Allocated once at construction (capacity = the next power of two >= 2 x max
// entries, so the load factor stays <= 0.5 and probes stay short); never allocates after,
// unless made to grow (then it is rebuilt twice the size when full).
// The table comes zeroed from calloc (an empty slot is key 0): a large one is mapped pages
// the kernel zeroes when first touched, so an index sized for millions of ids costs memory
// only as ids arrive, and constructing one writes nothing.
// Linear probing; erase uses backward-shift deletion (no tombstones), which the ledger
// needs to roll back a refused batch.
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

#include "matching/assert.hpp"

namespace ipx::ledger {

class IdIndex {
 public:
  static constexpr std::uint32_t kNone = 0xFFFF'FFFFu;

  // `touch`: fault every page of the table in now (a write per page), so that no insert or
  // lookup later takes a first-touch fault.
  // `grow`: past max_entries the table is rebuilt twice the size (instead of an insert there
  // being a bug).
  explicit IdIndex(std::size_t max_entries, bool touch = false, bool grow = false)
      : mask_(std::bit_ceil(max_entries * 2 < 16 ? std::size_t{16} : max_entries * 2) - 1),
        max_entries_(max_entries),
        touch_(touch),
        grow_(grow),
        slots_(allocate(mask_ + 1)) {
    if (touch) {
      auto* bytes = reinterpret_cast<volatile unsigned char*>(slots_.get());
      const std::size_t n = (mask_ + 1) * sizeof(Slot);
      for (std::size_t i = 0; i < n; i += 4096) bytes[i] = 0;
    }
  }

  IdIndex(const IdIndex& o)
      : mask_(o.mask_),
        max_entries_(o.max_entries_),
        size_(o.size_),
        touch_(o.touch_),
        grow_(o.grow_),
        slots_(allocate(mask_ + 1)) {
    std::memcpy(slots_.get(), o.slots_.get(), (mask_ + 1) * sizeof(Slot));
  }
  IdIndex& operator=(const IdIndex& o) {
    if (this != &o) *this = IdIndex(o);
    return *this;
  }
  IdIndex(IdIndex&&) noexcept = default;
  IdIndex& operator=(IdIndex&&) noexcept = default;

  std::uint32_t find(std::uint64_t key) const noexcept {
    IPX_ASSERT(key != 0);
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return s.value;
      if (s.key == 0) return kNone;
    }
  }

  // The key must be absent and the index below max_entries.
  void insert(std::uint64_t key, std::uint32_t value) {
    if (grow_ && size_ >= max_entries_) rebuild(max_entries_ * 2);
    IPX_ASSERT(key != 0 && value != kNone && size_ < max_entries_);
    std::size_t i = home(key);
    while (slots_[i].key != 0) {
      IPX_ASSERT(slots_[i].key != key);
      i = (i + 1) & mask_;
    }
    slots_[i] = Slot{key, value};
    ++size_;
  }

  void erase(std::uint64_t key) noexcept {
    std::size_t i = home(key);
    while (slots_[i].key != key) {
      IPX_ASSERT(slots_[i].key != 0);  // erase of an absent key is a bug
      i = (i + 1) & mask_;
    }
    // Backward shift: pull later entries of the cluster into the hole when their home
    // position does not lie cyclically in (hole, j].
    std::size_t hole = i;
    for (std::size_t j = (hole + 1) & mask_; slots_[j].key != 0; j = (j + 1) & mask_) {
      const std::size_t h = home(slots_[j].key);
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (!stays) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Slot{};
    --size_;
  }

  // Empties the table in place (its pages stay mapped: no fault when it fills again).
  void clear() noexcept {
    std::memset(static_cast<void*>(slots_.get()), 0, (mask_ + 1) * sizeof(Slot));
    size_ = 0;
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t max_entries() const noexcept { return max_entries_; }

 private:
  struct Slot {
    std::uint64_t key = 0;  // 0: empty (what calloc gives); value is read only when key matches
    std::uint32_t value = kNone;
  };
  static_assert(std::is_trivially_copyable_v<Slot>);
  struct Free {
    void operator()(Slot* p) const noexcept { std::free(p); }
  };
  using Table = std::unique_ptr<Slot[], Free>;
  static Table allocate(std::size_t n) {
    auto* p = static_cast<Slot*>(std::calloc(n, sizeof(Slot)));
    if (p == nullptr) throw std::bad_alloc();
    return Table(p);
  }
  // Engine ids come in runs (sequence-derived), so keys that differ only in their low 4
  // bits share a block of 16 adjacent slots (4 cache lines) and a run of inserts touches
  // one block instead of 16 random lines; the blocks themselves are spread by Fibonacci
  // hashing of the rest of the key.
  std::size_t home(std::uint64_t key) const noexcept {
    const std::uint64_t h = (key >> 4) * 0x9E37'79B9'7F4A'7C15ull;
    return static_cast<std::size_t>(((h ^ (h >> 29)) << 4) | (key & 15)) & mask_;
  }

  // Every entry into a table for `max_entries` (growth: twice the entries, twice the slots).
  void rebuild(std::size_t max_entries) {
    IPX_ASSERT(max_entries < kNone);
    IdIndex bigger(max_entries, touch_, grow_);
    for (std::size_t i = 0; i <= mask_; ++i) {
      if (slots_[i].key != 0) bigger.insert(slots_[i].key, slots_[i].value);
    }
    *this = std::move(bigger);
  }

  std::size_t mask_;
  std::size_t max_entries_;
  std::size_t size_ = 0;
  bool touch_ = false;
  bool grow_ = false;
  Table slots_;
};

}  // namespace ipx::ledger
