#pragma once
// Snapshots of the engine state: (seq, state_hash, payload, state, record_hash). A snapshot may
// only be written for a seq the journal holds (checked in the same statement, which also reads
// the journal's record hash at that seq), so a restore never starts ahead of the journal.
// Saving the same (seq, state_hash) twice is a no-op; another hash is an error (the engine is
// not deterministic). These functions take a connection: the snapshot writer's own
// (engine/pg/snapshot_writer.hpp), recovery's, or a test's.
//
// `state` is Domain::save()'s bytes (schema/0004_snapshot_state.sql), or a manifest of them
// (schema/0007_snapshot_chunks.sql): the blob's pieces, its own bytes inline and its sealed
// chunks by SHA-256 digest, each chunk a row of snapshot_chunks written once by the first
// snapshot that holds it (save_chunk). read_snapshot_state gives the bytes either way. A row
// may hold the hash alone (rows from before, or a state dropped to bound the disk:
// drop_old_states keeps the states of the newest `kept` rows, and deletes the chunks no kept
// state names).
#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "engine/pg/conn.hpp"
#include "engine/snapshot_io.hpp"

namespace ipx::pg {

struct Snapshot {
  std::int64_t seq = 0;
  std::string state_hash;   // bytes (1..64)
  std::string payload;      // bytes (a small summary)
  std::string record_hash;  // the journal record's hash at seq (32 bytes); empty on old rows
  bool has_state = false;   // whether the row holds a state
};

struct SnapshotWrite {
  std::int64_t seq = 0;
  std::string_view state_hash;
  std::string_view payload;
  std::string_view state;        // empty: the hash alone
  std::string_view chunks;       // a manifest's chunk digests (32 bytes each), else empty
};

// Keeps the states of the newest `kept` rows that have one; older states become NULL (their
// hashes stay: a full replay still checks them), and so do their chunk lists; then the chunks
// no remaining list names are deleted (their digests go to `dropped`), kGcBatch per statement,
// `paced` (if any) called with each batch's bytes before the next: outside a transaction, each
// statement is its own, and the snapshot writer sleeps in `paced` (deleting tens of MB at once
// stalled the journal's commits, docs/BENCHMARKS.md "Sixth round"). A chunk is deleted only
// while no kept state names it, so stopping between batches is safe.
inline constexpr std::size_t kGcBatch = 4;
std::error_code drop_old_states(PGconn* conn, std::size_t kept, std::vector<std::string>* dropped,
                                std::string* error, const std::function<void(std::size_t)>& paced);

// Chunks smaller than this go inline in the manifest (a snapshot holds thousands of small
// ones, the live orders' pages; the big ones are the sealed ~1 MiB log chunks).
inline constexpr std::size_t kStoredChunkMin = std::size_t{64} << 10;
// Whether a piece of a blob is stored as a chunk of its own.
inline bool stored_as_chunk(const engine::snap::Blob::Piece& p) {
  return p.chunk && p.chunk->size() - p.from >= kStoredChunkMin;
}
// A blob in pieces as a manifest: `digests[i]` is piece i's chunk digest (32 bytes) when
// stored_as_chunk, else empty (the bytes go inline). `chunks` gets the digests it names, once
// each.
std::string make_manifest(const engine::snap::Blob& blob, const std::vector<std::string>& digests,
                          std::string& chunks);
// SHA-256 of a chunk's bytes: its digest.
std::string chunk_digest(std::string_view bytes);
// Stores a chunk unless a row has its digest already.
std::error_code save_chunk(PGconn* conn, std::string_view digest, std::string_view bytes,
                           std::string* error = nullptr);

std::error_code save_snapshot(PGconn* conn, const SnapshotWrite& w, std::string* error = nullptr);
// The hash alone (a checkpoint).
std::error_code save_snapshot(PGconn* conn, std::int64_t seq, std::string_view state_hash,
                              std::string_view bytes, std::string* error = nullptr);
std::error_code load_latest_snapshot(PGconn* conn, std::optional<Snapshot>& out,
                                     std::string* error = nullptr);
// The seqs of the snapshots that hold a state, newest first.
std::error_code list_snapshot_states(PGconn* conn, std::vector<std::int64_t>& seqs,
                                     std::string* error = nullptr);
// Reads the snapshot at `seq` and calls `fn` with it and its state's bytes (valid during the
// call only: a snapshot may be hundreds of MB; a manifest's are put together from its chunks);
// `found` is false when no row at seq holds a state, or its manifest is cut or names a chunk
// that is gone (then `error` says so, and no error code is returned).
std::error_code read_snapshot_state(PGconn* conn, std::int64_t seq,
                                    const std::function<void(const Snapshot&, std::string_view)>& fn,
                                    bool& found, std::string* error = nullptr);

// A snapshot store with its own connection (reconnects), for a thread other than the
// committer's.
class SnapshotStore {
 public:
  explicit SnapshotStore(std::string conninfo) : conn_(std::move(conninfo)) {}
  std::error_code save(std::int64_t seq, std::string_view state_hash, std::string_view bytes);
  std::error_code load_latest(std::optional<Snapshot>& out);
  const std::string& last_error() const noexcept { return conn_.last_error(); }

 private:
  Connection conn_;
};

}  // namespace ipx::pg
