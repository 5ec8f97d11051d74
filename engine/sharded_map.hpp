#pragma once
// A hash map that grows without long stops: 64 boost::unordered_flat_maps, a key's shard
// chosen by its hash. A flat map doubles its table when it fills, moving every entry at once,
// on the engine thread: at 1.7M string keys (client_order_ids_ after a busy day) that one
// insert takes ~120 ms, a stall every client sees (docs/BENCHMARKS.md "Seventh round"). Split
// 64 ways, each doubling moves 1/64 of the entries (~2 ms there), and the shards fill at the
// same pace, so their doublings fall at different inserts only by chance of the hash.
//
// For the engine's lookup tables that only ever find, add and remove single keys (no
// iteration order is kept: what a snapshot saves is ordered elsewhere).
#include <boost/container_hash/hash.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace ipx::engine {

template <class K, class V>
class ShardedMap {
 public:
  static constexpr std::size_t kShards = 64;

  V* find(const K& k) {
    auto& s = shards_[shard_of(k)];
    auto it = s.find(k);
    return it == s.end() ? nullptr : &it->second;
  }
  const V* find(const K& k) const {
    const auto& s = shards_[shard_of(k)];
    auto it = s.find(k);
    return it == s.end() ? nullptr : &it->second;
  }
  bool contains(const K& k) const { return find(k) != nullptr; }
  // Adds k -> v unless k is present; true when added.
  bool try_emplace(K k, V v) {
    auto& s = shards_[shard_of(k)];
    return s.try_emplace(std::move(k), std::move(v)).second;
  }
  bool erase(const K& k) { return shards_[shard_of(k)].erase(k) != 0; }
  void clear() {
    for (auto& s : shards_) s.clear();
  }
  // Room for n entries in all, spread evenly (a load's rebuild).
  void reserve(std::size_t n) {
    for (auto& s : shards_) s.reserve(n / kShards + n / (4 * kShards) + 1);
  }
  std::size_t size() const {
    std::size_t n = 0;
    for (const auto& s : shards_) n += s.size();
    return n;
  }
  // Entries per shard (tests: the keys spread).
  std::array<std::size_t, kShards> shard_sizes() const {
    std::array<std::size_t, kShards> out{};
    for (std::size_t i = 0; i < kShards; ++i) out[i] = shards_[i].size();
    return out;
  }

 private:
  using Map = boost::unordered_flat_map<K, V>;
  // The top 6 bits of a multiplicative mix of the key's hash: the shard does not follow the
  // low bits the inner table's own mixing starts from (integer keys hash to themselves).
  static std::size_t shard_of(const K& k) {
    const std::uint64_t h = static_cast<std::uint64_t>(boost::hash<K>{}(k)) * 0x9E3779B97F4A7C15ULL;
    return static_cast<std::size_t>(h >> 58);
  }
  std::array<Map, kShards> shards_;
};

}  // namespace ipx::engine
