#pragma once
// IdIndex: a fixed-capacity open-addressing map from a nonzero uint64 id to a uint32 slot
// number. Allocated once at construction (capacity = the next power of two >= 2 x max
// entries, so the load factor stays <= 0.5 and probes stay short); never allocates after.
// Linear probing; erase uses backward-shift deletion (no tombstones), which the ledger
// needs to roll back a refused batch.
#include <bit>
#include <cstdint>
#include <vector>

#include "matching/assert.hpp"

namespace ipx::ledger {

class IdIndex {
 public:
  static constexpr std::uint32_t kNone = 0xFFFF'FFFFu;

  explicit IdIndex(std::size_t max_entries)
      : mask_(std::bit_ceil(max_entries * 2 < 16 ? std::size_t{16} : max_entries * 2) - 1),
        max_entries_(max_entries),
        slots_(mask_ + 1) {}

  std::uint32_t find(std::uint64_t key) const noexcept {
    IPX_ASSERT(key != 0);
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return s.value;
      if (s.key == 0) return kNone;
    }
  }

  // The key must be absent and the index below max_entries.
  void insert(std::uint64_t key, std::uint32_t value) noexcept {
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

  void clear() noexcept {
    for (Slot& s : slots_) s = Slot{};
    size_ = 0;
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t max_entries() const noexcept { return max_entries_; }

 private:
  struct Slot {
    std::uint64_t key = 0;
    std::uint32_t value = kNone;
  };
  // Engine ids come in runs (sequence-derived), so keys that differ only in their low 4
  // bits share a block of 16 adjacent slots (4 cache lines) and a run of inserts touches
  // one block instead of 16 random lines; the blocks themselves are spread by Fibonacci
  // hashing of the rest of the key.
  std::size_t home(std::uint64_t key) const noexcept {
    const std::uint64_t h = (key >> 4) * 0x9E37'79B9'7F4A'7C15ull;
    return static_cast<std::size_t>(((h ^ (h >> 29)) << 4) | (key & 15)) & mask_;
  }

  std::size_t mask_;
  std::size_t max_entries_;
  std::size_t size_ = 0;
  std::vector<Slot> slots_;
};

}  // namespace ipx::ledger
