#pragma once
// The engine's journal in PostgreSQL: one libpq connection, used by one thread at a time.
//
// Records are appended in batches, one transaction per batch (group commit), written with
// binary COPY. Each record is hash-chained:
//   hash = SHA-256(prev_hash || seq i64 BE || ts_ms i64 BE || kind i32 BE ||
//                  payload_len u32 BE || payload),   prev_hash of seq 1 = 32 zero bytes.
// Seqs start at 1 and have no gaps; a batch must continue the committed head exactly.
// On any failure nothing of the batch is committed (or, if the COMMIT's answer was lost, the
// outcome is unknown): the in-memory head is marked stale and re-read from the database before
// the next append, so the caller may re-send the same records; `confirm_committed` tells
// whether records re-sent after a lost acknowledgement are already in the journal.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "engine/pg/conn.hpp"
#include "engine/pg/snapshots.hpp"

namespace ipx::pg {

using Hash = std::array<std::uint8_t, 32>;

struct JournalRecord {
  std::int64_t seq = 0;
  std::int64_t ts_ms = 0;
  std::int32_t kind = 0;
  std::string payload;  // opaque bytes from the engine
};

// Bounds (asserted on the way in).
inline constexpr std::size_t kPayloadBytesMax = 16u << 20;  // one record, 16 MiB

// Runs inside the batch's transaction after the journal rows are written (e.g. ledger rows,
// a snapshot). A non-empty error rolls the whole batch back.
using ExtraWriter = std::function<std::error_code(PGconn*)>;

// Rows for other tables that merge across the submissions of one transaction (the ledger's).
// An ExtraWriter runs once per submission, so a transaction of 300 one-command submissions
// would send 300 statements for their ledger rows; RowsWriter gets every submission's rows of
// the transaction at once, in seq order, and writes each table with one statement.
struct Rows {
  virtual ~Rows() = default;
};
using RowsWriter = std::function<std::error_code(PGconn*, std::span<const Rows* const>)>;
using RecordFn = std::function<void(const JournalRecord&)>;

struct Head {
  std::int64_t seq = 0;  // 0: empty journal
  Hash hash{};           // zeros for an empty journal
};

struct ReplayStats {
  std::int64_t records = 0;
  std::int64_t last_seq = 0;
  Hash last_hash{};
};

struct VerifyResult {
  std::error_code ec;             // chain_broken, or a connection/query error
  std::int64_t records = 0;       // records that chained correctly
  std::int64_t broken_seq = 0;    // the first bad record (when chain_broken)
  Hash head{};                    // hash of the last good record
  std::string message;
  bool ok() const noexcept { return !ec; }
};

// The chain step, exposed so tests and tools compute the same thing.
Hash chain_hash(const Hash& prev, const JournalRecord& r);
std::string to_hex(std::span<const std::uint8_t> bytes);

class Journal {
 public:
  explicit Journal(std::string conninfo);

  // Connects and reads the head. connect_failed / query_failed.
  std::error_code open();
  std::error_code ping();

  // One transaction: COPY of all records of every part, then `rows` through `rows_writer`
  // (one call, when any), then every extra, then COMMIT.
  std::error_code append(std::span<const JournalRecord> records, const ExtraWriter& extra = {});
  std::error_code append_parts(std::span<const std::span<const JournalRecord>> parts,
                               std::span<const ExtraWriter* const> extras,
                               const RowsWriter* rows_writer = nullptr,
                               std::span<const Rows* const> rows = {});

  // After a failure: are these records (re-sent) already committed, with the same content?
  // Sets `committed`; chain_mismatch when the journal holds other content at those seqs.
  std::error_code confirm_committed(std::span<const JournalRecord> records, bool& committed);

  // Streams records with seq > after_seq in order (binary COPY out), checking the chain from
  // `prev` (a snapshot's record hash at after_seq), or else from the hash stored at after_seq.
  std::error_code replay(std::int64_t after_seq, const RecordFn& fn, ReplayStats* stats = nullptr,
                         const std::optional<Hash>& prev = std::nullopt);
  // The hash stored with the record at `seq` (zeros for seq 0); sequence_mismatch if none.
  std::error_code hash_at(std::int64_t seq, Hash& out);
  VerifyResult verify();

  std::error_code save_snapshot(std::int64_t seq, std::string_view state_hash,
                                std::string_view bytes);
  std::error_code load_latest_snapshot(std::optional<Snapshot>& out);

  // The committed head as last known (re-read from the database when stale).
  std::error_code refresh_head();
  const Head& head() const noexcept { return head_; }
  bool head_known() const noexcept { return head_known_; }
  const std::string& last_error() const noexcept { return conn_.last_error(); }
  Connection& connection() noexcept { return conn_; }

  // Test hook (failure injection): called after each successful COMMIT; when it returns true
  // the journal behaves as if the acknowledgement was lost (closes the connection, reports
  // connection_lost, forgets its head) although the batch is committed.
  void set_fault_drop_ack(std::function<bool()> hook) { fault_drop_ack_ = std::move(hook); }

 private:
  std::error_code ready();
  std::error_code fail_batch(std::error_code ec);
  std::error_code copy_in(std::span<const std::span<const JournalRecord>> parts, Head& next);

  Connection conn_;
  Head head_;
  bool head_known_ = false;
  std::string copy_buf_;  // reused: the binary COPY stream of one batch
  std::string hash_buf_;  // reused: canonical bytes of one record
  std::function<bool()> fault_drop_ack_;
  std::string broken_reason_;  // why the last replay found the chain broken
};

}  // namespace ipx::pg
