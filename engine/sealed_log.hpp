#pragma once
// SealedLog: an append-only byte log of encoded entries, in chunks of ~1 MiB that are sealed
// (never written again) once full, so that a snapshot takes the sealed chunks by reference and
// copies only the open one. The log behind two of a snapshot's sections (engine/domain_snapshot.cpp):
// the ledger's transfers and the finished orders, which only ever grow and are most of the
// state at a million commands (a snapshot's capture used to encode ~600k orders and ~1M
// transfers on the engine thread, 100-500 ms; now it copies at most 1 MiB per log).
//
// An entry never straddles two chunks: a chunk is sealed before an entry starts in it once it
// holds kChunkBytes. An entry is found again by its Ref (chunk number, offset), valid for the
// log's life (nothing is ever dropped; RememberedLog, which drops its oldest entries, keeps its
// own chunks).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/snapshot_io.hpp"

namespace ipx::engine {

// Adds a log's section contents to `b`: `count`, then the sealed chunks by reference (the
// first from `offset`), then the open chunk's bytes (from `offset` when no chunk is sealed).
// SealedLog's and RememberedLog's images.
void add_log_section(snap::Blob& b, std::size_t count,
                     const std::vector<std::shared_ptr<const std::string>>& sealed,
                     std::size_t offset, std::string_view open);

class SealedLog {
 public:
  struct Ref {
    std::uint32_t chunk = 0;
    std::uint32_t offset = 0;
  };
  // What a snapshot keeps of the log: its bytes at the moment it was taken.
  struct Image {
    std::vector<std::shared_ptr<const std::string>> sealed;
    std::string open;
    std::size_t count = 0;
    // Adds the section's contents (the count, then every entry, oldest first), the sealed
    // chunks by reference.
    void add_to(snap::Blob& b) const;
  };

  // Appends one entry: encode(snap::Writer&) writes its bytes.
  template <class Encode>
  Ref append(Encode&& encode) {
    if (open_.size() >= kChunkBytes) seal();
    if (open_.capacity() < kChunkBytes) open_.reserve(kChunkBytes + 4096);
    const Ref ref{static_cast<std::uint32_t>(sealed_.size()),
                  static_cast<std::uint32_t>(open_.size())};
    snap::Writer w(open_);
    encode(w);
    ++count_;
    return ref;
  }
  // The bytes from the entry at `ref` to the end of its chunk (its own bytes come first).
  std::string_view at(Ref ref) const;
  std::size_t size() const { return count_; }
  Image image() const { return Image{sealed_, open_, count_}; }
  // Replaces the log with `count` entries already encoded back to back (a snapshot's section,
  // read and checked by the caller): held as one sealed chunk, so no entry in it has a Ref.
  void adopt(std::string entries, std::size_t count);

 private:
  static constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
  void seal();

  std::vector<std::shared_ptr<const std::string>> sealed_;
  std::string open_;
  std::size_t count_ = 0;
};

}  // namespace ipx::engine
