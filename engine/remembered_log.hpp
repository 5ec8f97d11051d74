#pragma once
// RememberedLog: the idempotency table's replies (PROTOCOL "Idempotency", Domain::apply) in the
// order they were remembered, each kept encoded as a snapshot's "remembered" section holds it
// (engine/domain_snapshot.cpp): at_ms, key, params, code, message, result_json.
//
// Why: with 1M commands journaled the table holds ~1M replies, ~240 MB, 85 % of a snapshot;
// walking the hash map and encoding every entry on the engine thread was most of the engine's
// pause per snapshot (~0.8-1 s). Kept encoded, a snapshot takes the sealed chunks by reference
// (they never change again) and a copy of the open one (at most ~1 MiB): microseconds on the
// engine thread; the section's bytes are put together, and checksummed, by whoever makes the
// snapshot's bytes (the snapshot writer's thread).
//
// The log only grows at its end (engine time never goes back, so it is in time order) and
// shrinks at its start (the oldest replies expire first). Chunks of ~1 MiB are sealed when full
// and dropped once all their entries expired, so expired bytes cost at most one chunk. An entry
// is found by its Ref (chunk number, offset), valid until the entry is popped.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "engine/outcome.hpp"
#include "engine/sharded_map.hpp"

namespace ipx::engine {

namespace snap {
class Writer;
class Reader;
struct Blob;
}  // namespace snap

class RememberedLog {
 public:
  struct Ref {
    std::uint64_t chunk = 0;
    std::uint32_t offset = 0;
  };
  // Views into the log: valid until the entry is popped.
  struct Entry {
    std::int64_t at_ms = 0;
    std::string_view key, params;
    Code code = Code::ok;
    std::string_view message, result_json;
  };
  // What a snapshot keeps of the log: its bytes at the moment it was taken.
  struct Image {
    std::vector<std::shared_ptr<const std::string>> sealed;
    std::size_t offset = 0;  // of the oldest entry, in the first chunk (sealed[0], else open)
    std::string open;
    std::size_t count = 0;
    // Adds the section's contents (the count, then every entry, oldest first), the sealed
    // chunks by reference.
    void add_to(snap::Blob& b) const;
  };

  // Appends an entry; at_ms must not be before the newest entry's.
  Ref append(std::int64_t at_ms, std::string_view key, std::string_view params, Code code,
             std::string_view message, std::string_view result_json) {
    return append(at_ms, key, {params}, code, message, result_json);
  }
  // The same, with the params given in pieces that the entry holds joined (the engine's
  // request text, method name and params, without building it as one string first).
  Ref append(std::int64_t at_ms, std::string_view key,
             std::initializer_list<std::string_view> params, Code code,
             std::string_view message, std::string_view result_json);
  Entry get(Ref ref) const;
  Entry front() const;  // the oldest; !empty()
  void pop_front();
  bool empty() const { return count_ == 0; }
  std::size_t size() const { return count_; }
  Image image() const;

  // Reads one entry of a snapshot's section (as written by append), checking what a reader
  // must: the code is a protocol code. Throws snap::Error (through r) otherwise.
  static Entry read(snap::Reader& r);

 private:
  static constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
  const std::string& chunk(std::uint64_t n) const;
  std::size_t front_bytes() const;  // the encoded length of the oldest entry

  std::deque<std::shared_ptr<const std::string>> sealed_;
  std::string open_;
  std::uint64_t first_ = 0;  // the number of the first chunk (sealed_.front(), else open_)
  std::size_t front_ = 0;    // the oldest entry's offset in the first chunk
  std::size_t count_ = 0;
  std::int64_t last_at_ms_ = INT64_MIN;
};

// The idempotency table's index: a key (pair_key(participant, request_id)) -> its entry in a
// RememberedLog. The table is keyed by a 64-bit fingerprint of the key (its boost::hash; 24-byte
// slots, no key string built, moved or hashed again as the table grows); the key itself is the
// log entry's,
// compared on every find, so two keys with one fingerprint are told apart: the later one is
// kept whole in `overflow_` (which stays empty unless that happens). A replay inserts one key
// per command: with string keys this table was ~9 % of a replay's time (docs/BENCHMARKS.md
// "Fourteenth round").
class RememberedIndex {
 public:
  using Ref = RememberedLog::Ref;
  // The entry of `key` in `log`, or null.
  const Ref* find(std::string_view key, const RememberedLog& log) const;
  // Adds key -> ref (ref: its entry in `log`, already appended); false when key is present.
  bool insert(std::string_view key, Ref ref, const RememberedLog& log);
  // Removes key (present), before its entry leaves `log`.
  void erase(std::string_view key, const RememberedLog& log);
  void clear();
  void reserve(std::size_t n) { by_fingerprint_.reserve(n); }
  std::size_t size() const { return by_fingerprint_.size() + overflow_.size(); }
  // The fingerprint (tests give two keys one fingerprint through it).
  static std::uint64_t fingerprint(std::string_view key);

 private:
  friend struct RememberedIndexTest;
  ShardedMap<std::uint64_t, Ref> by_fingerprint_;
  boost::unordered_flat_map<std::string, Ref> overflow_;
  // Tests only: every key has this fingerprint when set (collisions on demand).
  std::optional<std::uint64_t> fixed_fingerprint_;
  std::uint64_t fingerprint_of(std::string_view key) const {
    return fixed_fingerprint_ ? *fixed_fingerprint_ : fingerprint(key);
  }
};

}  // namespace ipx::engine
